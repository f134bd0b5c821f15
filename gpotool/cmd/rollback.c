/* gpotool rollback ID [--logical] [--dry-run] [--undo-on-clients=delete|DATA]: undo one
 * journaled write. Exact (the saved bytes back) when the target is as the write left it;
 * refused with what differs when it is not, unless --logical. */
#include "cmd/cmd.h"
#include "run/rollback.h"

static int exec_rollback(struct gt_ctx *ctx, const struct cmd_args *a, struct gt_error *e)
{
	struct rollback_opts o = {
		.logical = cmd_opt(&cmd_rollback_entry, a, "logical") != NULL,
		.dry_run = cmd_opt(&cmd_rollback_entry, a, "dry-run") != NULL,
		.undo_on_clients = cmd_opt(&cmd_rollback_entry, a, "undo-on-clients"),
	};

	if (cmd_conn_options(ctx, &cmd_rollback_entry, a, e) < 0)
		return -1;
	return rollback_entry(ctx, a->argv[0], &o, e);
}

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.args_usage = "ID [--logical] [--dry-run] [--undo-on-clients=delete|DATA] [CONN]",
	.summary = "undo a journaled write: the exact bytes back, or --logical its inverse; journaled and audited",
	.options = { "logical", "dry-run", "undo-on-clients=", CMD_CONN_OPTIONS, NULL },
	.help = "An entry that wrote a GPO in a domain knows the domain, the DC and the GPO: give the credentials\n"
		"(CONN) and it is rolled back there, its versions raised again, its link taken out if it made it.\n"
		CMD_CONN_HELP,
	.min_args = 1,
	.max_args = 1,
	.audited = 1,
	.exec = exec_rollback,
};
