/* Status codes and version. */
#include "config.h"

#include "internal.h"

const char *dtm_strerror(dtm_status status)
{
    switch (status) {
    case DTM_OK: return "success";
    case DTM_EINVAL: return "invalid argument";
    case DTM_EKEY: return "key normalizes to nothing";
    case DTM_EVALUE: return "invalid value (NaN, infinite, or inconsistent summary)";
    case DTM_ETOOSMALL: return "output buffer too small";
    case DTM_ENOMEM: return "out of memory";
    case DTM_ELINE: return "line longer than the protocol allows";
    case DTM_EDIMS: return "more than 50 dimensions";
    case DTM_ESYNTAX: return "not a valid line of the protocol";
    case DTM_EIO: return "file could not be read or written";
    case DTM_ECONFIG: return "invalid configuration";
    case DTM_ETRANSPORT: return "transport failure";
    case DTM_EHTTP: return "unexpected HTTP status";
    case DTM_EAUTH: return "endpoint refused the token or URL";
    case DTM_ETIMEOUT: return "deadline passed";
    case DTM_EFULL: return "queue full, data dropped";
    case DTM_ESTATE: return "object not usable in this state";
    case DTM_EREJECTED: return "server rejected some lines";
    }
    return "unknown status";
}

const char *dtm_version(void)
{
    return PACKAGE_VERSION;
}
