/* Redfish error bodies: {"error": {"code", "message", "@Message.ExtendedInfo":
 * [Message]}}, the message from the DMTF Base registry (Base.1.16.0) with
 * its arguments filled in. Clients (sushy, redfishtool) show the
 * MessageId and the message; "message" may carry piglix's own reason. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "web/redfish/redfish_internal.h"

#define RF_BASE "Base.1.16.0."

struct rf_message {
    const char *id;
    const char *text;           /* %1..%3: the arguments */
    const char *severity;
    const char *resolution;
};

static const char *const RESUBMIT = "Resubmit the request.  If the problem persists, consider resetting the service.";
static const char *const FIX_VALUE =
    "Correct the value for the parameter in the request body and resubmit the request if the operation failed.";
static const char *const FIX_PROPERTY =
    "Correct the value for the property in the request body and resubmit the request if the operation failed.";

static const struct rf_message messages[RF_MSG_COUNT] = {
    [RF_MSG_SUCCESS] = {"Success", "The request completed successfully.", "OK", "None."},
    [RF_MSG_GENERAL_ERROR] = {"GeneralError",
        "A general error has occurred.  See Resolution for information on how to resolve the error, "
        "or @Message.ExtendedInfo if Resolution is not provided.", "Critical", "None."},
    [RF_MSG_INTERNAL_ERROR] = {"InternalError",
        "The request failed due to an internal service error.  The service is still operational.",
        "Critical", NULL},
    [RF_MSG_RESOURCE_MISSING_AT_URI] = {"ResourceMissingAtURI", "The resource at the URI '%1' was not found.",
        "Critical", "Place a valid resource at the URI or correct the URI and resubmit the request."},
    [RF_MSG_OPERATION_NOT_ALLOWED] = {"OperationNotAllowed", "The HTTP method is not allowed on this URI.",
        "Critical", "None."},
    [RF_MSG_NO_VALID_SESSION] = {"NoValidSession",
        "There is no valid session established with the implementation.", "Critical",
        "Establish a session before attempting any operations."},
    [RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED] = {"ResourceAtUriUnauthorized",
        "While accessing the resource at '%1', the service received an authorization error '%2'.", "Critical",
        "Ensure that the appropriate access is provided for the service in order for it to access the URI."},
    [RF_MSG_MALFORMED_JSON] = {"MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
        "Critical", "Ensure that the request body is valid JSON and resubmit the request."},
    [RF_MSG_UNRECOGNIZED_REQUEST_BODY] = {"UnrecognizedRequestBody",
        "The service detected a malformed request body that it was unable to interpret.", "Critical",
        "Correct the request body and resubmit the request if it failed."},
    [RF_MSG_HEADER_INVALID] = {"HeaderInvalid", "Header '%1' is invalid.", "Critical",
        "Resubmit the request with a valid header."},
    [RF_MSG_PAYLOAD_TOO_LARGE] = {"PayloadTooLarge",
        "The supplied payload exceeds the maximum size supported by the service.", "Critical",
        "Correct the request body and resubmit the request if it failed."},
    [RF_MSG_ACTION_PARAM_MISSING] = {"ActionParameterMissing",
        "The action %1 requires the parameter %2 to be present in the request body.", "Critical",
        "Supply the action with the required parameter in the request body when the request is resubmitted."},
    [RF_MSG_ACTION_PARAM_NOT_IN_LIST] = {"ActionParameterValueNotInList",
        "The value '%1' for the parameter %2 in the action %3 is not in the list of acceptable values.",
        "Warning", "Choose a value from the enumeration list that the implementation can support and "
                   "resubmit the request if the operation failed."},
    [RF_MSG_ACTION_PARAM_TYPE_ERROR] = {"ActionParameterValueTypeError",
        "The value '%1' for the parameter %2 in the action %3 is of a different type than the parameter can accept.",
        "Warning", NULL},
    [RF_MSG_ACTION_PARAM_FORMAT_ERROR] = {"ActionParameterValueFormatError",
        "The value '%1' for the parameter %2 in the action %3 is of a different format than the parameter can accept.",
        "Warning", NULL},
    [RF_MSG_ACTION_PARAM_UNKNOWN] = {"ActionParameterUnknown",
        "The action %1 was submitted with the invalid parameter %2.", "Warning",
        "Correct the invalid parameter and resubmit the request if the operation failed."},
    [RF_MSG_ACTION_PARAM_NOT_SUPPORTED] = {"ActionParameterNotSupported",
        "The parameter %1 for the action %2 is not supported on the target resource.", "Warning",
        "Remove the parameter supplied and resubmit the request if the operation failed."},
    [RF_MSG_PROPERTY_UNKNOWN] = {"PropertyUnknown",
        "The property %1 is not in the list of valid properties for the resource.", "Warning",
        "Remove the unknown property from the request body and resubmit the request if the operation failed."},
    [RF_MSG_PROPERTY_NOT_WRITABLE] = {"PropertyNotWritable",
        "The property %1 is a read only property and cannot be assigned a value.", "Warning",
        "Remove the property from the request body and resubmit the request if the operation failed."},
    [RF_MSG_PROPERTY_TYPE_ERROR] = {"PropertyValueTypeError",
        "The value '%1' for the property %2 is of a different type than the property can accept.", "Warning",
        NULL},
    [RF_MSG_PROPERTY_OUT_OF_RANGE] = {"PropertyValueOutOfRange",
        "The value '%1' for the property %2 is not in the supported range of acceptable values.", "Warning",
        NULL},
    [RF_MSG_PROPERTY_MISSING] = {"PropertyMissing",
        "The property %1 is a required property and must be included in the request.", "Warning",
        "Ensure that the property is in the request body and has a valid value and resubmit the request "
        "if the operation failed."},
    [RF_MSG_CREATE_MISSING_PROPS] = {"CreateFailedMissingReqProperties",
        "The create operation failed because the required property %1 was missing from the request.", "Critical",
        "Correct the body to include the required property with a valid value and resubmit the request "
        "if the operation failed."},
    [RF_MSG_PRECONDITION_FAILED] = {"PreconditionFailed",
        "The ETag supplied did not match the ETag required to change this resource.", "Critical",
        "Try the operation again using the appropriate ETag."},
    [RF_MSG_RESOURCE_IN_USE] = {"ResourceInUse",
        "The change to the requested resource failed because the resource is in use or in transition.",
        "Warning", "Remove the condition and resubmit the request if the operation failed."},
    [RF_MSG_RESOURCE_IN_STANDBY] = {"ResourceInStandby",
        "The request could not be performed because the resource is in standby.", "Critical",
        "Ensure that the resource is in the correct power state and resubmit the request."},
    [RF_MSG_POWER_ON_REQUIRED] = {"ChassisPowerStateOnRequired",
        "The Chassis with Id '%1' requires to be powered on to perform this request.", "Critical",
        "Power on the specified Chassis and resubmit the request."},
    [RF_MSG_SESSION_LIMIT] = {"SessionLimitExceeded",
        "The session establishment failed due to the number of simultaneous sessions exceeding the limit "
        "of the implementation.", "Critical",
        "Reduce the number of other sessions before trying to establish the session or increase the limit "
        "of simultaneous sessions (if supported)."},
    [RF_MSG_UNAVAILABLE] = {"ServiceTemporarilyUnavailable",
        "The service is temporarily unavailable.  Retry in %1 seconds.", "Critical",
        "Wait for the indicated retry duration and retry the operation."},
    [RF_MSG_SHUTTING_DOWN] = {"ServiceShuttingDown",
        "The operation failed because the service is shutting down and can no longer take incoming requests.",
        "Critical", "When the service becomes available, resubmit the request if the operation failed."},
    [RF_MSG_OPERATION_FAILED] = {"OperationFailed",
        "An error occurred internal to the service as part of the overall request.  Partial results may "
        "have been returned.", "Warning",
        "Resubmit the request.  If the problem persists, consider resetting the service or provider."},
    [RF_MSG_INSUFFICIENT_PRIVILEGE] = {"InsufficientPrivilege",
        "There are insufficient privileges for the account or credentials associated with the current "
        "session to perform the requested operation.", "Critical",
        "Either abandon the operation or change the associated access rights and resubmit the request "
        "if the operation failed."},
};

const char *rf_msg_id(enum rf_msg msg, char *buf, size_t n)
{
    snprintf(buf, n, RF_BASE "%s", messages[msg].id);
    return buf;
}

static int arg_count(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strchr(p, '%')); p++)
        if (p[1] >= '1' && p[1] <= '3' && p[1] - '0' > n)
            n = p[1] - '0';
    return n;
}

/* The message with %N replaced by args[N-1]. */
static void format(const char *text, const char *const *args, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < n; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '3') {
            o += (size_t)snprintf(out + o, n - o, "%s", args[p[1] - '1']);
            if (o >= n)
                o = n - 1;
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void error_v(struct rf_req *r, int status, const char *why, enum rf_msg msg, va_list ap)
{
    const struct rf_message *m = &messages[msg];
    const char *args[3] = {"", "", ""};
    int nargs = arg_count(m->text);
    for (int i = 0; i < nargs; i++)
        args[i] = va_arg(ap, const char *);
    char id[96], text[768], type[64];
    format(m->text, args, text, sizeof(text));
    rf_msg_id(msg, id, sizeof(id));

    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "@odata.type", rf_type_name(RF_T_MESSAGE, type, sizeof(type)));
    cJSON_AddStringToObject(info, "MessageId", id);
    cJSON_AddStringToObject(info, "Message", text);
    cJSON *jargs = cJSON_AddArrayToObject(info, "MessageArgs");
    for (int i = 0; i < nargs; i++)
        cJSON_AddItemToArray(jargs, cJSON_CreateString(args[i]));
    cJSON_AddStringToObject(info, "MessageSeverity", m->severity);
    cJSON_AddStringToObject(info, "Severity", m->severity);
    cJSON_AddStringToObject(info, "Resolution",
                            m->resolution ? m->resolution
                                          : strstr(m->id, "Property") ? FIX_PROPERTY
                                          : strstr(m->id, "Action") ? FIX_VALUE : RESUBMIT);
    cJSON *err = cJSON_CreateObject();
    cJSON_AddStringToObject(err, "code", id);
    cJSON_AddStringToObject(err, "message", why && why[0] ? why : text);
    cJSON *list = cJSON_AddArrayToObject(err, "@Message.ExtendedInfo");
    cJSON_AddItemToArray(list, info);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "error", err);

    char *body = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    rf_error_headers(r, status);
    web_reply_bytes(r->c, status, "application/json; charset=utf-8", (uint8_t *)body, body ? strlen(body) : 0);
}

void rf_error(struct rf_req *r, int status, enum rf_msg msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    error_v(r, status, NULL, msg, ap);
    va_end(ap);
}

void rf_error_why(struct rf_req *r, int status, const char *why, enum rf_msg msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    error_v(r, status, why, msg, ap);
    va_end(ap);
}
