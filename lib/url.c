/*
 * Ingest URL inspection with curl_url (libcurl >= 7.62).  The messages
 * written here never quote the URL as given: it may carry credentials or a
 * token in its query.  Only the parts returned by libcurl are shown.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "url.h"

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int ieq(const char *a, const char *b)
{
    while (*a && *b && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static int iends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && ieq(s + n - m, suffix);
}

static int icontains(const char *s, const char *needle)
{
    size_t m = strlen(needle);
    for (; *s; s++) {
        size_t i;
        for (i = 0; i < m && s[i]; i++)
            if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)needle[i]))
                break;
        if (i == m)
            return 1;
    }
    return 0;
}

static int host_is_loopback(const char *host)
{
    char buf[128];
    size_t n = strlen(host);
    unsigned char a[16];
    if (ieq(host, "localhost") || ieq(host, "localhost.") || iends_with(host, ".localhost"))
        return 1;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        static const unsigned char v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        if (inet_pton(AF_INET6, buf, a) != 1)
            return 0;
        if (memcmp(a, v6_loop, 16) == 0)
            return 1;
        return memcmp(a, v4_mapped, 12) == 0 && a[12] == 127;
    }
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    return 0;
}

static void set_msg(char *msg, size_t size, const char *text)
{
    if (msg && size)
        snprintf(msg, size, "%s", text);
}

dtm_status dtm__url_inspect(const char *url, dtm__url_info *info, char *msg, size_t msg_size)
{
    CURLU *u;
    CURLUcode rc;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL,
         *password = NULL, *query = NULL;
    dtm_status st = DTM_ECONFIG;

    memset(info, 0, sizeof *info);
    if (!url || !*url) {
        set_msg(msg, msg_size, "empty URL");
        return DTM_ECONFIG;
    }
    u = curl_url();
    if (!u) {
        set_msg(msg, msg_size, "out of memory");
        return DTM_ENOMEM;
    }
    rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc == CURLUE_OUT_OF_MEMORY) {
        st = DTM_ENOMEM;
        set_msg(msg, msg_size, "out of memory");
        goto out;
    }
    if (rc != CURLUE_OK) {
        if (!strstr(url, "://"))
            set_msg(msg, msg_size,
                    "not a valid URL: it must start with http:// or https://");
        else if (msg && msg_size)
            snprintf(msg, msg_size, "not a valid URL (libcurl URL error %d)", (int)rc);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        set_msg(msg, msg_size, "not a valid URL: scheme, host or path missing");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);

    if (ieq(scheme, "https")) {
        info->https = 1;
    } else if (!ieq(scheme, "http")) {
        if (msg && msg_size)
            snprintf(msg, msg_size, "unsupported URL scheme '%.16s': use http:// or https://",
                     scheme);
        goto out;
    }
    if ((user && *user) || (password && *password)) {
        set_msg(msg, msg_size,
                "credentials in the URL are not supported: give the API token as the token");
        goto out;
    }
    if (query && icontains(query, "api-token")) {
        set_msg(msg, msg_size,
                "the URL carries an API token in its query: never put the token in the URL, "
                "give it as the token (it is sent in the Authorization header)");
        goto out;
    }
    info->loopback = host_is_loopback(host);
    info->apps_host = iends_with(host, ".apps.dynatrace.com");
    /* Paths are case-sensitive. */
    info->ingest_path = strlen(path) >= 15 && strcmp(path + strlen(path) - 15, "/metrics/ingest") == 0;
    snprintf(info->display, sizeof info->display, "%s://%s%s%s%s", scheme, host,
             port ? ":" : "", port ? port : "", path);
    st = DTM_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_free(password);
    curl_free(query);
    curl_url_cleanup(u);
    return st;
}
