/*
 * credentials.c - AWS credentials and region. See ddb2es/credentials.h.
 *
 * DESIGN
 * One reader, ini_read_profile(), scans a shared credentials or config file once and keeps
 * only the values of the one section that names the wanted profile (every other line is
 * still checked, as the AWS CLI refuses a malformed file whatever profile it is asked for).
 * Both resolvers call it for the files they need, in the documented order, and record what
 * each place said in a short "looked in" list that becomes the message when nothing is
 * found. Values that may be secret are copied into owned strings and wiped on free; the
 * getline buffer and the stdio buffer that held file lines are wiped too. Messages name
 * files, lines, profiles and variables, never a value read from a file or variable that can
 * hold a key.
 */
#include "ddb2es/credentials.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ddb2es/buf.h"
#include "util.h"

const char *aws_process_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* The variable's value, or NULL when unset or empty. */
static const char *env(aws_getenv_fn fn, void *ctx, const char *name)
{
    const char *v = (fn ? fn : aws_process_getenv)(ctx, name);

    return v && *v ? v : NULL;
}

static void free_secret(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

struct aws_credentials *aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                            const char *session_token, const char *source)
{
    struct aws_credentials *c;

    if (!access_key_id || !secret_access_key)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->access_key_id = util_strdup(access_key_id);
    c->secret_access_key = util_strdup(secret_access_key);
    if (session_token)
        c->session_token = util_strdup(session_token);
    if (!c->access_key_id || !c->secret_access_key || (session_token && !c->session_token)) {
        aws_credentials_free(c);
        return NULL;
    }
    snprintf(c->source, sizeof(c->source), "%s", source ? source : "given");
    return c;
}

void aws_credentials_free(struct aws_credentials *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

/* ---- the INI reader ------------------------------------------------------------------------- */

/* Keys of other credential providers: a profile holding one of them gets its keys elsewhere. */
static const char *const unsupported_keys[] = {
    "role_arn", "credential_process", "sso_start_url", "sso_session", "sso_account_id", "web_identity_token_file",
};

/* What the wanted section of one file held. */
struct profile_vals {
    int file_exists;       /* the file could be opened */
    int section_found;     /* the profile's section is in it */
    char *akid;            /* owned copies, NULL when absent */
    char *secret;
    char *token;
    char *region;
    size_t akid_line, secret_line, region_line;
    const char *unsupported; /* first unsupported provider key seen (a constant), or NULL */
};

static void profile_vals_free(struct profile_vals *v)
{
    free(v->akid);
    free_secret(v->secret);
    free_secret(v->token);
    free(v->region);
    memset(v, 0, sizeof(*v));
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Trims s[0..*n) in place: returns the new start and updates *n. */
static char *trim(char *s, size_t *n)
{
    while (*n && is_space(*s)) {
        s++;
        (*n)--;
    }
    while (*n && is_space(s[*n - 1]))
        (*n)--;
    return s;
}

/* Does the section name `sec` (trimmed) name `profile` in this kind of file? */
static int section_matches(const char *sec, size_t n, int is_config, const char *profile)
{
    size_t plen = strlen(profile);

    if (!is_config || strcmp(profile, "default") == 0) {
        if (n == plen && memcmp(sec, profile, n) == 0)
            return 1;
        if (!is_config)
            return 0;
    }
    /* config: "profile NAME" (any run of blanks between), also "[profile default]" */
    if (n > 8 && memcmp(sec, "profile", 7) == 0 && (sec[7] == ' ' || sec[7] == '\t')) {
        sec += 7;
        n -= 7;
        while (n && (*sec == ' ' || *sec == '\t')) {
            sec++;
            n--;
        }
        return n == plen && memcmp(sec, profile, n) == 0;
    }
    return 0;
}

/* Replaces *slot with a copy of v[0..n); an empty value clears it ("key =" means unset). */
static int set_value(char **slot, const char *v, size_t n)
{
    char *p = NULL;

    if (n) {
        p = util_strndup(v, n);
        if (!p)
            return DDB2ES_E_NOMEM;
    }
    free_secret(*slot);
    *slot = p;
    return DDB2ES_OK;
}

static int malformed(struct ddb2es_error *err, const char *path, size_t lineno, const char *what)
{
    return ddb2es_failf(err, DDB2ES_E_CONFIG,
                        "%s:%zu: %s (the line is not shown: it may hold a key); fix or remove that line", path,
                        lineno, what);
}

/*
 * Handles one line (no line end, NUL-terminated at line[n]). *in_section says whether the
 * current section is the wanted one; *have_key whether a key line came since the section
 * began (indented lines after it continue it).
 */
static int ini_line(char *line, size_t n, size_t lineno, const char *path, int is_config, const char *profile,
                    int *in_section, int *have_key, struct profile_vals *v, struct ddb2es_error *err)
{
    char *s, *key, *val, *close;
    size_t klen, vlen, i;
    int indented = n > 0 && (line[0] == ' ' || line[0] == '\t');

    s = trim(line, &n);
    if (n == 0 || *s == '#' || *s == ';')
        return DDB2ES_OK;
    if (*s == '[') {
        close = memchr(s, ']', n);
        if (!close)
            return malformed(err, path, lineno, "a section line without its closing ']'");
        for (i = (size_t)(close - s) + 1; i < n; i++) {
            if (s[i] == '#' || s[i] == ';')
                break;
            if (!is_space(s[i]))
                return malformed(err, path, lineno, "text after a section's ']'");
        }
        klen = (size_t)(close - s) - 1;
        key = trim(s + 1, &klen);
        if (klen == 0)
            return malformed(err, path, lineno, "an empty section name");
        *in_section = section_matches(key, klen, is_config, profile) ? 1 : 0;
        *have_key = 0;
        if (*in_section > 0)
            v->section_found = 1;
        return DDB2ES_OK;
    }
    if (indented && *have_key)
        return DDB2ES_OK; /* a nested setting ("s3 =" then indented lines): not ours */
    for (i = 0; i < n && s[i] != '=' && s[i] != ':'; i++)
        ;
    if (i == n)
        return malformed(err, path, lineno, "expected '[section]', 'key = value' or a comment");
    if (*in_section < 0)
        return malformed(err, path, lineno, "a setting before any [section]");
    klen = i;
    key = trim(s, &klen);
    if (klen == 0)
        return malformed(err, path, lineno, "a setting without a name");
    vlen = n - i - 1;
    val = trim(s + i + 1, &vlen);
    /* a comment after the value needs whitespace before it: keys and tokens hold no spaces */
    for (i = 1; i < vlen; i++)
        if ((val[i] == '#' || val[i] == ';') && is_space(val[i - 1])) {
            vlen = i;
            val = trim(val, &vlen);
            break;
        }
    *have_key = 1;
    if (*in_section <= 0)
        return DDB2ES_OK;
#define KEY_IS(name) (klen == sizeof(name) - 1 && strncasecmp(key, name, klen) == 0)
    if (KEY_IS("aws_access_key_id")) {
        v->akid_line = lineno;
        return set_value(&v->akid, val, vlen);
    }
    if (KEY_IS("aws_secret_access_key")) {
        v->secret_line = lineno;
        return set_value(&v->secret, val, vlen);
    }
    if (KEY_IS("aws_session_token"))
        return set_value(&v->token, val, vlen);
    if (KEY_IS("region")) {
        v->region_line = lineno;
        return set_value(&v->region, val, vlen);
    }
#undef KEY_IS
    for (i = 0; i < sizeof(unsupported_keys) / sizeof(unsupported_keys[0]); i++)
        if (!v->unsupported && klen == strlen(unsupported_keys[i]) &&
            strncasecmp(key, unsupported_keys[i], klen) == 0)
            v->unsupported = unsupported_keys[i];
    return DDB2ES_OK;
}

/*
 * Reads `path` and fills *v with the values of `profile`'s section. A missing file is not
 * an error (v->file_exists stays 0); any other failure to read it is.
 */
static int ini_read_profile(const char *path, int is_config, const char *profile, struct profile_vals *v,
                            struct ddb2es_error *err)
{
    char iobuf[BUFSIZ];
    char *line = NULL;
    size_t cap = 0, lineno = 0, n;
    ssize_t got;
    int in_section = -1, have_key = 0, rc = DDB2ES_OK, saved;
    FILE *f;

    memset(v, 0, sizeof(*v));
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return DDB2ES_OK;
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "cannot read %s: %s", path, strerror(errno));
    }
    setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)); /* ours, so it can be wiped */
    v->file_exists = 1;
    errno = 0;
    for (;;) {
        char *s;

        got = getline(&line, &cap, f);
        if (got < 0)
            break;
        s = line;
        lineno++;
        n = (size_t)got;
        if (lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        s[n] = '\0';
        if (memchr(s, '\0', n)) {
            rc = malformed(err, path, lineno, "a NUL byte (is this a text file?)");
            break;
        }
        rc = ini_line(s, n, lineno, path, is_config, profile, &in_section, &have_key, v, err);
        if (rc)
            break;
    }
    saved = errno;
    if (!rc && ferror(f))
        rc = ddb2es_failf(err, DDB2ES_E_CONFIG, "cannot read %s: %s", path, strerror(saved ? saved : EIO));
    if (rc == DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "out of memory reading %s", path);
    if (line)
        OPENSSL_cleanse(line, cap);
    free(line);
    fclose(f);
    OPENSSL_cleanse(iobuf, sizeof(iobuf));
    if (rc)
        profile_vals_free(v);
    return rc;
}

/* ---- file locations ------------------------------------------------------------------------- */

/*
 * The path of one of the two files: the variable's value (with a leading "~/" expanded),
 * else $HOME/.aws/<name>. Writes "" when neither can be formed (no HOME).
 */
static int aws_file_path(aws_getenv_fn fn, void *ctx, const char *var, const char *name, char *out, size_t outsz,
                         struct ddb2es_error *err)
{
    const char *v = env(fn, ctx, var), *home = env(fn, ctx, "HOME");
    int n;

    out[0] = '\0';
    if (v && v[0] == '~' && v[1] == '/') {
        if (!home)
            return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s starts with ~/ but HOME is not set", var);
        n = snprintf(out, outsz, "%s%s", home, v + 1);
    } else if (v) {
        n = snprintf(out, outsz, "%s", v);
    } else if (home) {
        n = snprintf(out, outsz, "%s/.aws/%s", home, name);
    } else {
        return DDB2ES_OK;
    }
    if (n < 0 || (size_t)n >= outsz)
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "the path of the AWS %s file is too long (from %s)", name,
                            v ? var : "HOME");
    return DDB2ES_OK;
}

/* Appends "; " and a formatted note to the looked-in list (running out of memory
 * only shortens the final message). */
static void looked(struct dbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 2, 3)))
#endif
    ;
static void looked(struct dbuf *b, const char *fmt, ...)
{
    va_list ap;

    if (b->len)
        dbuf_puts(b, "; ");
    va_start(ap, fmt);
    dbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

static const char *profile_name(aws_getenv_fn fn, void *ctx, const char *profile)
{
    const char *p = profile && *profile ? profile : env(fn, ctx, "AWS_PROFILE");

    return p ? p : "default";
}

/* Section as the user writes it in that file, for messages. */
static void section_label(int is_config, const char *profile, char *out, size_t outsz)
{
    if (is_config && strcmp(profile, "default") != 0)
        snprintf(out, outsz, "[profile %s]", profile);
    else
        snprintf(out, outsz, "[%s]", profile);
}

/* ---- credentials ---------------------------------------------------------------------------- */

static int from_environment(aws_getenv_fn fn, void *ctx, struct aws_credentials **out, struct dbuf *seen,
                            struct ddb2es_error *err)
{
    const char *akid = env(fn, ctx, "AWS_ACCESS_KEY_ID");
    const char *secret = env(fn, ctx, "AWS_SECRET_ACCESS_KEY");

    if (akid && !secret)
        return ddb2es_failf(err, DDB2ES_E_AUTH,
                            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both or unset both");
    if (secret && !akid)
        return ddb2es_failf(err, DDB2ES_E_AUTH,
                            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both or unset both");
    if (!akid) {
        looked(seen, "the environment (AWS_ACCESS_KEY_ID not set)");
        return DDB2ES_OK;
    }
    *out = aws_credentials_new(akid, secret, env(fn, ctx, "AWS_SESSION_TOKEN"), "environment");
    if (!*out)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory copying the AWS credentials");
    return DDB2ES_OK;
}

/*
 * Takes the keys of one file's section when it has both (*out set), fails on a half pair,
 * else notes in `seen` what the file lacked and leaves *out NULL.
 */
static int from_profile_vals(struct profile_vals *v, const char *path, int is_config, const char *profile,
                             struct aws_credentials **out, struct dbuf *seen, struct ddb2es_error *err)
{
    char label[300], source[128];

    section_label(is_config, profile, label, sizeof(label));
    if (!v->file_exists) {
        looked(seen, "%s (no such file)", path);
        return DDB2ES_OK;
    }
    if (!v->section_found) {
        looked(seen, "%s (no %s section)", path, label);
        return DDB2ES_OK;
    }
    if (v->akid && !v->secret)
        return ddb2es_failf(err, DDB2ES_E_AUTH,
                            "%s:%zu: profile '%s' has aws_access_key_id but no aws_secret_access_key; add it",
                            path, v->akid_line, profile);
    if (v->secret && !v->akid)
        return ddb2es_failf(err, DDB2ES_E_AUTH,
                            "%s:%zu: profile '%s' has aws_secret_access_key but no aws_access_key_id; add it",
                            path, v->secret_line, profile);
    if (!v->akid) {
        looked(seen, "%s (%s has no aws_access_key_id)", path, label);
        return DDB2ES_OK;
    }
    snprintf(source, sizeof(source), "profile '%s' (%s)", profile, path);
    *out = aws_credentials_new(v->akid, v->secret, v->token, source);
    if (!*out)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory copying the AWS credentials");
    return DDB2ES_OK;
}

int aws_credentials_resolve(aws_getenv_fn getenv_fn, void *ctx, const char *profile,
                            struct aws_credentials **out, struct ddb2es_error *err)
{
    /* The shared files in the order the AWS CLI reads them: keys in credentials win over config. */
    static const struct {
        const char *env;   /* variable naming the file */
        const char *name;  /* ~/.aws/NAME otherwise */
        int is_config;     /* config's sections are "[profile NAME]" */
    } files[2] = {
        {"AWS_SHARED_CREDENTIALS_FILE", "credentials", 0},
        {"AWS_CONFIG_FILE", "config", 1},
    };
    struct profile_vals vals[2];
    struct dbuf seen = DBUF_INIT;
    char cpath[4096], fpath[4096];
    char *const path[2] = {cpath, fpath};
    const char *name = profile_name(getenv_fn, ctx, profile);
    const char *unsupported = NULL, *unsupported_path = NULL;
    size_t i;
    int rc;

    *out = NULL;
    memset(vals, 0, sizeof(vals));
    if (profile && *profile) {
        looked(&seen, "not the environment (profile '%s' was asked for)", profile);
    } else {
        rc = from_environment(getenv_fn, ctx, out, &seen, err);
        if (rc || *out)
            goto out;
    }

    for (i = 0; i < 2; i++) {
        rc = aws_file_path(getenv_fn, ctx, files[i].env, files[i].name, path[i],
                           sizeof(cpath) /* = sizeof(fpath) */, err);
        if (rc)
            goto out;
        if (!path[i][0]) {
            looked(&seen, "~/.aws/%s (HOME not set)", files[i].name);
            continue;
        }
        rc = ini_read_profile(path[i], files[i].is_config, name, &vals[i], err);
        if (rc)
            goto out;
        rc = from_profile_vals(&vals[i], path[i], files[i].is_config, name, out, &seen, err);
        if (rc || *out)
            goto out;
        if (vals[i].unsupported && !unsupported) {
            unsupported = vals[i].unsupported;
            unsupported_path = path[i];
        }
    }

    if (unsupported) {
        rc = ddb2es_failf(err, DDB2ES_E_AUTH,
                          "profile '%s' in %s gets its keys through %s, which ddb2es does not follow; export "
                          "temporary keys instead, e.g. eval \"$(aws configure export-credentials --profile %s "
                          "--format env)\"",
                          name, unsupported_path, unsupported, name);
        goto out;
    }
    rc = ddb2es_failf(err, DDB2ES_E_AUTH,
                      "no AWS credentials found for profile '%s'; looked in: %s. Set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, or add the keys to that profile",
                      name, seen.len ? dbuf_cstr(&seen) : "nowhere (out of memory)");
out:
    for (i = 0; i < 2; i++)
        profile_vals_free(&vals[i]);
    dbuf_free(&seen);
    return rc;
}

/* ---- region --------------------------------------------------------------------------------- */

static int valid_region(const char *r)
{
    if (!*r)
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    return 1;
}

/* Copies a region from `where` into out, checking it. */
static int take_region(const char *r, const char *where, char *out, size_t outsz, struct ddb2es_error *err)
{
    if (!valid_region(r))
        return ddb2es_failf(err, DDB2ES_E_CONFIG,
                            "%s gives the region '%.64s', which is not a region name (lower case, like eu-west-2)", where, r);
    if (strlen(r) >= outsz)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "the region from %s is too long for its buffer", where);
    snprintf(out, outsz, "%s", r);
    return DDB2ES_OK;
}

/* The profile's region from one file, if it has one. *found tells. */
static int region_from_file(aws_getenv_fn fn, void *ctx, const char *var, const char *file, int is_config,
                            const char *name, char *out, size_t outsz, int *found, struct dbuf *seen,
                            struct ddb2es_error *err)
{
    struct profile_vals v;
    char path[4096], where[4200], label[300];
    int rc;

    *found = 0;
    rc = aws_file_path(fn, ctx, var, file, path, sizeof(path), err);
    if (rc)
        return rc;
    if (!path[0])
        return DDB2ES_OK;
    rc = ini_read_profile(path, is_config, name, &v, err);
    if (rc)
        return rc;
    if (v.region) {
        snprintf(where, sizeof(where), "%s:%zu", path, v.region_line);
        rc = take_region(v.region, where, out, outsz, err);
        *found = rc == DDB2ES_OK;
    } else if (!v.file_exists) {
        looked(seen, "%s (no such file)", path);
    } else {
        section_label(is_config, name, label, sizeof(label));
        looked(seen, "%s %s", path, label);
    }
    profile_vals_free(&v);
    return rc;
}

int aws_region_resolve(aws_getenv_fn getenv_fn, void *ctx, const char *profile, const char *fallback, char *out,
                       size_t outsz, struct ddb2es_error *err)
{
    struct dbuf seen = DBUF_INIT;
    const char *name = profile_name(getenv_fn, ctx, profile);
    const char *r;
    int rc, found = 0;

    if (!out || outsz == 0)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no buffer for the region");
    out[0] = '\0';
    r = env(getenv_fn, ctx, "AWS_REGION");
    if (r)
        return take_region(r, "AWS_REGION", out, outsz, err);
    r = env(getenv_fn, ctx, "AWS_DEFAULT_REGION");
    if (r)
        return take_region(r, "AWS_DEFAULT_REGION", out, outsz, err);
    rc = region_from_file(getenv_fn, ctx, "AWS_CONFIG_FILE", "config", 1, name, out, outsz, &found, &seen, err);
    if (!rc && !found)
        rc = region_from_file(getenv_fn, ctx, "AWS_SHARED_CREDENTIALS_FILE", "credentials", 0, name, out, outsz,
                              &found, &seen, err);
    if (!rc && !found) {
        if (fallback && *fallback)
            rc = take_region(fallback, "the environment's configuration", out, outsz, err);
        else
            rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                              "no AWS region: AWS_REGION and AWS_DEFAULT_REGION are not set and no region is in %s; "
                              "set one of them, add region to the profile, or give the environment a region",
                              seen.len ? dbuf_cstr(&seen) : "the AWS config files");
    }
    dbuf_free(&seen);
    return rc;
}
