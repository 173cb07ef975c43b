/* Typed access to a yajl tree for the config.json reader: every error
 * names the file and the field ("config.json: process.args: expected an
 * array of strings"). */
#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rd_bad(struct reader *r, const char *field, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nscell_error_set(r->err, EINVAL, "%s: %s: %s", r->name, field, msg);
}

int rd_oom(struct reader *r)
{
	return nscell_error_set(r->err, ENOMEM, "%s: out of memory", r->name);
}

/* "process" + "user" → "process.user"; "" + "root" → "root" */
const char *rd_sub(char *buf, size_t size, const char *field, const char *key)
{
	snprintf(buf, size, "%s%s%s", field, *field ? "." : "", key);
	return buf;
}

const char *rd_idx(char *buf, size_t size, const char *field, size_t i)
{
	snprintf(buf, size, "%s[%zu]", field, i);
	return buf;
}

yajl_val rd_get(yajl_val obj, const char *k)
{
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], k) == 0)
			return obj->u.object.values[i];
	return NULL;
}

/* Every key known and given once. */
int rd_check_keys(struct reader *r, yajl_val obj, const char *field,
		  const char *const *known)
{
	char f[256];
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(obj->u.object.keys[j], k) == 0)
				return rd_bad(r, rd_sub(f, sizeof f, field, k), "given twice");
		size_t j = 0;
		while (known[j] && strcmp(known[j], k) != 0)
			j++;
		if (!known[j])
			return rd_bad(r, rd_sub(f, sizeof f, field, k), "not supported by nscell");
	}
	return 0;
}

int rd_object(struct reader *r, yajl_val v, const char *field, bool required)
{
	if (!v)
		return required ? rd_bad(r, field, "missing (required)") : 0;
	return YAJL_IS_OBJECT(v) ? 1 : rd_bad(r, field, "expected an object");
}

int rd_string(struct reader *r, yajl_val v, const char *field, bool required,
	      const char **out)
{
	*out = NULL;
	if (!v)
		return required ? rd_bad(r, field, "missing (required)") : 0;
	if (!YAJL_IS_STRING(v))
		return rd_bad(r, field, "expected a string");
	*out = v->u.string;
	return 0;
}

int rd_bool(struct reader *r, yajl_val v, const char *field, bool *out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return rd_bad(r, field, "expected true or false");
	*out = YAJL_IS_TRUE(v);
	return 0;
}

int rd_u32(struct reader *r, yajl_val v, const char *field, uint32_t *out)
{
	if (!v)
		return rd_bad(r, field, "missing (required)");
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
	    YAJL_GET_INTEGER(v) > (long long)UINT32_MAX - 1)
		return rd_bad(r, field, "expected an integer from 0 to 4294967294");
	*out = (uint32_t)YAJL_GET_INTEGER(v);
	return 0;
}

int rd_positive(struct reader *r, yajl_val v, const char *field, int64_t *out)
{
	if (!v)
		return rd_bad(r, field, "missing (required)");
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0)
		return rd_bad(r, field, "expected a positive integer");
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

int rd_strv(struct reader *r, yajl_val v, const char *field, bool nonempty,
	    char ***out)
{
	*out = NULL;
	if (!YAJL_IS_ARRAY(v))
		return rd_bad(r, field, "expected an array of strings");
	size_t n = v->u.array.len;
	for (size_t i = 0; i < n; i++)
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			return rd_bad(r, field, "expected an array of strings");
	if (nonempty && !n)
		return rd_bad(r, field, "expected a non-empty array of strings");
	if (!n)
		return 0;
	char **sv = calloc(n + 1, sizeof *sv);
	if (!sv)
		return rd_oom(r);
	for (size_t i = 0; i < n; i++) {
		if (!(sv[i] = strdup(v->u.array.values[i]->u.string))) {
			plan_strv_free(sv);
			return rd_oom(r);
		}
	}
	*out = sv;
	return 0;
}

/* absolute, no "//", no "." or ".." component, no trailing '/' */
bool rd_path_normal(const char *s)
{
	if (s[0] != '/')
		return false;
	if (s[1] == '\0')
		return true;
	for (const char *c = s; *c; c++) {
		if (*c != '/')
			continue;
		const char *n = c + 1;
		if (*n == '\0' || *n == '/' || (n[0] == '.' && (n[1] == '/' || !n[1])) ||
		    (n[0] == '.' && n[1] == '.' && (n[2] == '/' || !n[2])))
			return false;
	}
	return true;
}

int rd_path(struct reader *r, yajl_val v, const char *field, const char **out)
{
	if (rd_string(r, v, field, true, out) < 0)
		return -1;
	if (!rd_path_normal(*out))
		return rd_bad(r, field, "'%s' is not an absolute, normalised path", *out);
	return 0;
}
