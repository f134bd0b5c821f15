/* Value advisories; see advisory.h. */
#include "advisory.h"

#include <json-c/json.h>
#include <string.h>
#include <strings.h>

/* KB5014754, "Certificate-based authentication changes on Windows domain controllers"
 * (support.microsoft.com/topic/ad2c23b0-15d8-4340-a468-4d4f3b188f16): the September 9, 2025
 * security update removes Compatibility mode; StrongCertificateBindingEnforcement and
 * CertificateBackdatingCompensation are no longer honoured on DCs that have it. */
static const struct {
	const char *key_suffix, *name;
	int only_if_not;           /* warn unless the new DWORD equals this (-1: always) */
	int year, month, day;      /* the deadline */
	const char *what;
} advisories[] = {
	{ "Services\\Kdc", "StrongCertificateBindingEnforcement", 2, 2025, 9, 9,
	  "compatibility mode for certificate mapping (KB5014754)" },
	{ "Services\\Kdc", "CertificateBackdatingCompensation", -1, 2025, 9, 9,
	  "certificate backdating compensation, a compatibility-mode setting (KB5014754)" },
};

static int ends_with_key(const char *key, const char *suffix)
{
	size_t n = strlen(key), s = strlen(suffix);

	return n >= s && strcasecmp(key + n - s, suffix) == 0 && (n == s || key[n - s - 1] == '\\');
}

static long dword_of(const struct reg_value *v)
{
	if (v->type != RT_DWORD || v->len != 4)
		return -1;
	return (long)((uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 |
		      (uint32_t)v->data[3] << 24);
}

static time_t utc_day(int year, int month, int day)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day };

	return timegm(&tm);
}

int advisory_check(const struct plan *p, time_t as_of, struct sbuf *out, struct json_object *jwarnings)
{
	int count = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];

		if (c->kind != CH_SET_VALUE)
			continue;
		for (size_t a = 0; a < sizeof(advisories) / sizeof(advisories[0]); a++) {
			time_t deadline = utc_day(advisories[a].year, advisories[a].month, advisories[a].day);
			long days = (long)((deadline - as_of) / 86400);
			char date[16];

			if (strcasecmp(c->name, advisories[a].name) || !ends_with_key(c->key, advisories[a].key_suffix) ||
			    (advisories[a].only_if_not >= 0 && dword_of(&c->new_value) == advisories[a].only_if_not))
				continue;
			strftime(date, sizeof(date), "%Y-%m-%d", &(struct tm){ .tm_year = advisories[a].year - 1900,
				.tm_mon = advisories[a].month - 1, .tm_mday = advisories[a].day });
			if (days > 0)
				sbuf_addf(out, "%s stages %s, which works only until the %s security update: %ld days left\n",
					  c->name, advisories[a].what, date, days);
			else
				sbuf_addf(out, "%s stages %s, which EXPIRED with the %s security update: domain controllers "
					  "with that update ignore it; it only helps DCs that do not have it yet. The real fix is "
					  "strongly mapped certificates (SID extension 1.3.6.1.4.1.311.25.2, or the SAN URL "
					  "tag:microsoft.com,2022-09-14:sid:<SID>)\n", c->name, advisories[a].what, date);
			if (jwarnings) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, "value", json_object_new_string(c->name));
				json_object_object_add(o, "deadline", json_object_new_string(date));
				json_object_object_add(o, "days", json_object_new_int64(days > 0 ? days : 0));
				json_object_object_add(o, "expired", json_object_new_boolean(days <= 0));
				json_object_array_add(jwarnings, o);
			}
			count++;
		}
	}
	return count;
}
