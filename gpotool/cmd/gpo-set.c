/* gpotool gpo set DIR KEY NAME TYPE DATA: add or update one GPP Registry item, keyed on
 * hive + key + name, bump GPT.INI, and say what AD needs next (gpo ad). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "gpo/gpotx.h"

static int check_filters(const struct cmd_entry *en, const struct cmd_args *a, struct gpp_setting *s, struct gt_error *e)
{
	s->filter_group = cmd_opt(en, a, "filter-group");
	s->filter_sid = cmd_opt(en, a, "filter-sid");
	s->filter_computer = cmd_opt(en, a, "filter-computer");
	s->filter_ou = cmd_opt(en, a, "filter-ou");
	if (s->filter_sid && !s->filter_group)
		return gt_fail(e, GT_USAGE, "--filter-sid goes with --filter-group");
	if (s->filter_group && !strchr(s->filter_group, '\\'))
		return gt_fail(e, GT_USAGE, "--filter-group takes DOMAIN\\Group, not '%s'", s->filter_group);
	if (s->filter_sid && (strncmp(s->filter_sid, "S-1-", 4) || strspn(s->filter_sid + 4, "0123456789-") != strlen(s->filter_sid + 4)))
		return gt_fail(e, GT_USAGE, "--filter-sid takes a SID (S-1-5-21-...), not '%s'", s->filter_sid);
	if (s->filter_ou && strncasecmp(s->filter_ou, "OU=", 3) && strncasecmp(s->filter_ou, "DC=", 3) && strncasecmp(s->filter_ou, "CN=", 3))
		return gt_fail(e, GT_USAGE, "--filter-ou takes a distinguished name (OU=...,DC=...), not '%s'", s->filter_ou);
	return 0;
}

static int exec_gpo_set(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	const struct cmd_entry *en = &cmd_gpo_set_entry;
	const char *action = cmd_opt(en, a, "action");
	struct gpp_setting s = { .name = a->argv[2], .action = 'U' };
	int user = cmd_opt(en, a, "user") != NULL;
	char changed[32], uid[39], *key = NULL;
	struct target t = { 0 };
	uint32_t type;
	time_t now = time(NULL);
	int ret;

	if (action && (strlen(action) != 1 || !strchr("CRUD", action[0])))
		return gt_fail(e, GT_USAGE, "--action takes C, R, U or D (Create, Replace, Update, Delete), not '%s'", action);
	if (action)
		s.action = action[0];
	if (!reg_type_from_name(a->argv[3], &type))
		return gt_fail(e, GT_USAGE, "unknown value type '%s' (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)", a->argv[3]);
	if (check_filters(en, a, &s, e) < 0 || gpp_split_key(a->argv[1], user, &s.hive, &key, e) < 0)
		return -1;
	s.key = key;
	reg_value_init(&s.value);
	if (reg_value_from_text(type, a->argv[4], &s.value, e) < 0) {
		free(key);
		return -1;
	}
	s.value.name = xstrdup(s.name);
	strftime(changed, sizeof(changed), "%Y-%m-%d %H:%M:%S", gmtime(&now));
	s.changed = changed;
	gpp_new_guid(uid);
	s.uid = uid;
	ret = cmd_target_write(ctx, &cmd_gpo_set_entry, a, &t, e);
	if (ret == 0)
		ret = target_plan(&t, &(struct target_change){ .kind = TC_SET_VALUE, .key = a->argv[1], .item = &s }, e) < 0 ? -1 : 0;
	if (ret == 0)
		ret = target_commit(&t, e);
	target_close(&t);
	reg_value_release(&s.value);
	free(key);
	return ret;
}

const struct cmd_entry cmd_gpo_set_entry = {
	.name = "gpo set",
	.args_usage = "DIR KEY NAME TYPE DATA [--action C|R|U|D] [--user] [--filter-...]",
	.summary = "add or update a GPP Registry item; bumps GPT.INI; verified, journaled",
	.options = { "action=", "user", "filter-group=", "filter-sid=", "filter-computer=", "filter-ou=", NULL },
	.min_args = 5,
	.max_args = 5,
	.audited = 1,
	.exec = exec_gpo_set,
};
