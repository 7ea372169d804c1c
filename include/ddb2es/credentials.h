/*
 * ddb2es/credentials.h - AWS credentials and region resolution.
 *
 * DESIGN
 * Resolution order (the subset of the AWS SDKs' chain this version supports):
 *   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment,
 *      unless the caller names a profile explicitly (as the AWS CLI's --profile does, an
 *      explicit profile wins over keys in the environment);
 *   2. the profile named by the caller, else AWS_PROFILE, else "default", in the shared
 *      credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; sections are
 *      "[NAME]"), then in the config file (AWS_CONFIG_FILE, else ~/.aws/config, where sections
 *      are "[profile NAME]" except "[default]"). The keys (aws_access_key_id,
 *      aws_secret_access_key, aws_session_token) are taken together from the first file
 *      whose section has both keys.
 * Region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in the config
 * file (else in the credentials file, which the AWS CLI also reads), else the caller's
 * fallback (an environment's configured region).
 * The files are read as the AWS CLI reads them: "[section]" lines, "key = value" (or
 * "key: value") lines with case-insensitive keys, whole-line comments starting with '#' or
 * ';', a comment after a value when the '#' or ';' follows whitespace, indented lines under a
 * key continuing it (nested settings such as "s3 =", ignored here), CRLF line ends and a
 * UTF-8 BOM. A line that is none of these is an error naming the file and line (the line
 * itself is never shown: it may hold a key).
 * Profiles that get keys some other way (role_arn, credential_process, sso_*,
 * web_identity_token_file) are not followed: the error says so and how to export keys.
 * The environment is read through a lookup function so tests need not touch the process
 * environment (and no global state is read behind the caller's back).
 *
 * Secrets never leave this struct except into the signer: no message of this module
 * contains a secret key or token; `source` says where the keys came from. Buffers that held
 * file lines are wiped before they are freed.
 */
#ifndef DDB2ES_CREDENTIALS_H
#define DDB2ES_CREDENTIALS_H

#include <stddef.h>

#include "ddb2es/error.h"

struct aws_credentials {
    char *access_key_id;      /* owned */
    char *secret_access_key;  /* owned; never printed */
    char *session_token;      /* owned, NULL when absent; never printed */
    char source[128];         /* where they came from: "environment", "profile 'dev' (/home/u/.aws/credentials)" */
};

/* Returns the value of an environment variable or NULL (borrowed). `ctx` is passed through.
 * An empty value counts as unset. */
typedef const char *(*aws_getenv_fn)(void *ctx, const char *name);

/* A lookup that reads the process environment (getenv); ctx is ignored. */
const char *aws_process_getenv(void *ctx, const char *name);

/*
 * Resolves credentials. `getenv_fn` NULL means aws_process_getenv. `profile` overrides
 * AWS_PROFILE when non-NULL (and then keys in the environment are not used). On success
 * *out is a new object owned by the caller (free with aws_credentials_free). DDB2ES_E_AUTH
 * when none are found, with a message listing where it looked, or when a profile is
 * incomplete or of an unsupported kind; DDB2ES_E_CONFIG for an unreadable or malformed file
 * (file and line named); DDB2ES_E_NOMEM.
 */
int aws_credentials_resolve(aws_getenv_fn getenv_fn, void *ctx, const char *profile,
                            struct aws_credentials **out, struct ddb2es_error *err);

/* A copy of explicitly given keys (token and source may be NULL). Caller frees. NULL when a
 * key is NULL or out of memory. */
struct aws_credentials *aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                            const char *session_token, const char *source);

/* Frees, wiping the secret and the token first. NULL is accepted. */
void aws_credentials_free(struct aws_credentials *c);

/*
 * Resolves the region into out[outsz] following the order above; `fallback` may be NULL.
 * The files are read only when no environment variable gives the region. DDB2ES_E_CONFIG
 * when no region can be found, when the value found is not a region name (lower-case letters,
 * digits, '-') or a file is unreadable or malformed; DDB2ES_E_USAGE when it does not fit in outsz.
 */
int aws_region_resolve(aws_getenv_fn getenv_fn, void *ctx, const char *profile, const char *fallback,
                       char *out, size_t outsz, struct ddb2es_error *err);

#endif
