/* Setting templates (templates/NAME.template): what to stage, where, with which values, on which
 * machines, and what to do after. Data read at run time and checked against
 * templates/template.schema, so a site can add one without rebuilding. What a value means
 * (refused, expiring, weak) is not a template's: it is in templates/value-rules (advisory.h),
 * so that every writer of the value applies it. */
#ifndef GPOTOOL_TEMPLATE_H
#define GPOTOOL_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TEMPLATE_MAX_LIST 16

enum template_role { ROLE_ANY, ROLE_DOMAIN_CONTROLLER, ROLE_CONNECTOR_SERVER };

struct template {
	char *file;
	char *name, *summary, *purpose;
	char *key;                   /* HKLM\SYSTEM\CurrentControlSet\Services\Kdc */
	char *value;                 /* the value name */
	uint32_t type;
	int has_data;                /* data given; else --value is required */
	uint32_t data;
	uint32_t allowed_min, allowed_max;
	enum template_role role;
	char *min_connector;         /* dotted version, or NULL */
	char *gpo_link;              /* "OU=Domain Controllers", relative to the domain DN */
	char *followup[TEMPLATE_MAX_LIST];
	size_t nfollowup;
	char *source[TEMPLATE_MAX_LIST];
	size_t nsource;
};

/* Loads dir/NAME.template; GT_USAGE when there is no such template, GT_REFUSED naming the
 * file and line when it breaks the schema. t released with template_release. */
int template_load(const char *dir, const char *name, struct template *t, struct gt_error *e);
void template_release(struct template *t);
/* Every template in dir, by name. *names caller-freed (each and the array). */
int template_names(const char *dir, char ***names, size_t *n, struct gt_error *e);
const char *template_role_name(enum template_role r);

/* Compares dotted versions part by part, numerically: <0, 0, >0. -2 if either is malformed. */
int version_compare(const char *a, const char *b);

#endif
