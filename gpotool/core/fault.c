/* Test-only kill, stop and corruption points; see fault.h. The damage is done beside the
 * engines (hive-fault.c, gpo-fault.c), so that each commit path carries one line for it; the
 * names are here, in one table, because the tests depend on them byte for byte. */
#include "core/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>


enum fault_kind {
	FAULT_KILL,    /* fault_point: SIGKILL, or SIGSTOP with ":stop" */
	FAULT_DAMAGE,  /* fault_asked: the engine damages the file it just wrote */
	FAULT_FAMILY,  /* fault_asked: any name with this prefix; the engine refuses unknown ones */
};

static const struct fault_def {
	enum fault_kind kind;
	const char *name;   /* exactly as GPOTOOL_FAULT gives it */
	const char *where;  /* for a reader of this table: where the point is, what it does */
} faults[FAULT_NPOINTS] = {
	[FAULT_HIVE_BEFORE_RENAME] = { FAULT_KILL, "hive-before-rename",
		"hivetx.c: the hive's entry is pending and its temp file verified; the rename is next" },
	[FAULT_HIVE_AFTER_RENAME] = { FAULT_KILL, "hive-after-rename",
		"hivetx.c: the new hive is in place; its entry is not yet marked complete" },
	[FAULT_GPO_BEFORE_RENAMES] = { FAULT_KILL, "gpo-before-renames",
		"gpotx.c: the GPO's entry is pending; neither Registry.xml nor GPT.INI replaced yet" },
	[FAULT_GPO_BETWEEN_RENAMES] = { FAULT_KILL, "gpo-between-renames",
		"gpotx.c: Registry.xml replaced, GPT.INI not yet (the half-changed GPO recovery finishes)" },
	[FAULT_AUDIT_BEFORE_APPEND] = { FAULT_KILL, "audit-before-append",
		"cmd/main.c: the command is done; its audit record is not yet appended" },
	[FAULT_AUDIT_BEFORE_HEAD] = { FAULT_KILL, "audit-before-head",
		"audit.c: the record is in the trail; the head file still names the one before" },
	[FAULT_AUDIT_AFTER_APPEND] = { FAULT_KILL, "audit-after-append",
		"cmd/main.c: the record is appended; the journal entry is not yet marked audited" },
	[FAULT_RECOVER_AFTER_WRITE] = { FAULT_KILL, "recover-after-write",
		"journal.c: recovery put an entry's files in place; the entry is not yet marked" },
	[FAULT_RECOVER_AFTER_MARK] = { FAULT_KILL, "recover-after-mark",
		"journal.c: recovery marked the entry; its audit record is not yet appended" },
	[FAULT_ABANDON_AFTER_LOAD] = { FAULT_KILL, "abandon-after-load",
		"journal.c: journal abandon read the pending entry and has not locked it yet" },
	[FAULT_JOURNAL_ENTRY_OPENED] = { FAULT_KILL, "journal-entry-opened",
		"journal.c: a writer made and opened its entry's folder and has not locked it yet" },
	[FAULT_DOMAIN_JOURNALED] = { FAULT_KILL, "domain-journaled",
		"target/domain.c: the deploy's entry is pending; nothing written to SYSVOL or AD yet" },
	[FAULT_DOMAIN_REGISTRY_WRITTEN] = { FAULT_KILL, "domain-registry-written",
		"target/domain.c: Registry.xml is in SYSVOL; GPT.INI and AD are not yet changed" },
	[FAULT_DOMAIN_FILES_WRITTEN] = { FAULT_KILL, "domain-files-written",
		"target/domain.c: Registry.xml and GPT.INI are in SYSVOL; the AD object not yet changed" },
	[FAULT_DOMAIN_GPC_WRITTEN] = { FAULT_KILL, "domain-gpc-written",
		"target/domain.c: the GPO's AD object is changed; the OU's gPLink not yet" },
	[FAULT_DOMAIN_LINK_WRITTEN] = { FAULT_KILL, "domain-link-written",
		"target/domain.c: files, AD object and link are written; the entry is not yet marked complete" },
	[FAULT_DOMAIN_CAS_READ] = { FAULT_KILL, "domain-cas-read",
		"target/domain.c: the AD values a compare-and-swap will delete are read; the modify not yet sent "
		"(a test stops here to change them under it)" },
	[FAULT_HIVE_WRITTEN] = { FAULT_FAMILY, "hive-written-",
		"hive-fault.c: the temp hive written, before libregf verifies it" },
	[FAULT_HIVE_WRITTEN_FLIP_DATA] = { FAULT_DAMAGE, "hive-written-flip-data",
		"hive-fault.c: one data byte of the last planned value, in the file only" },
	[FAULT_HIVE_WRITTEN_RETYPE] = { FAULT_DAMAGE, "hive-written-retype",
		"hive-fault.c: the last planned value's type, in the file only" },
	[FAULT_HIVE_WRITTEN_FLIP_OTHER] = { FAULT_DAMAGE, "hive-written-flip-other",
		"hive-fault.c: a value of the same key that the plan does not touch, in the file only" },
	[FAULT_HIVE_WRITTEN_DROP_CHANGE] = { FAULT_DAMAGE, "hive-written-drop-change",
		"hive-fault.c: the last planned value change undone, in hivex and the file alike" },
	[FAULT_GPTINI_RENDERED_VERSION] = { FAULT_DAMAGE, "gptini-rendered-version",
		"gpo-fault.c: one digit of GPT.INI's new Version, before it is read back" },
	[FAULT_GPP_APPLIED] = { FAULT_FAMILY, "gpp-applied-",
		"gpo-fault.c: the edited Registry.xml, before its verification" },
	[FAULT_GPP_APPLIED_VALUE] = { FAULT_DAMAGE, "gpp-applied-value",
		"gpo-fault.c: the edited item's value attribute" },
	[FAULT_GPP_APPLIED_OTHER] = { FAULT_DAMAGE, "gpp-applied-other",
		"gpo-fault.c: another item's value attribute" },
	[FAULT_GPP_APPLIED_CLSID] = { FAULT_DAMAGE, "gpp-applied-clsid",
		"gpo-fault.c: the edited item's Registry clsid (only the schema knows it)" },
};

const char *fault_name(enum fault_id id)
{
	return faults[id].name;
}

int fault_value_known(const char *value)
{
	for (size_t i = 0; i < FAULT_NPOINTS; i++) {
		const struct fault_def *f = &faults[i];
		size_t n = strlen(f->name);

		if (f->kind == FAULT_FAMILY ? strncmp(value, f->name, n) == 0 : strcmp(value, f->name) == 0)
			return 1;
		if (f->kind == FAULT_KILL && strncmp(value, f->name, n) == 0 && strcmp(value + n, ":stop") == 0)
			return 1;
	}
	return 0;
}

/* GPOTOOL_FAULT, or NULL. A value that names no point is said by main (fault_value_known):
 * a module does not print. */
static const char *fault_wanted(void)
{
	const char *want = getenv("GPOTOOL_FAULT");

	return want && *want ? want : NULL;
}

int fault_asked(enum fault_id damage)
{
	const struct fault_def *f = &faults[damage];
	const char *want = fault_wanted();

	if (!want || f->kind == FAULT_KILL)
		return 0;
	return f->kind == FAULT_FAMILY ? strncmp(want, f->name, strlen(f->name)) == 0 : strcmp(want, f->name) == 0;
}

void fault_point(enum fault_id kill)
{
	const char *name = faults[kill].name, *want = fault_wanted();
	size_t n = strlen(name);

	if (!want || faults[kill].kind != FAULT_KILL || strncmp(want, name, n) != 0)
		return;
	if (want[n] == '\0')
		raise(SIGKILL);
	else if (strcmp(want + n, ":stop") == 0)
		raise(SIGSTOP);
}

int fault_nothing_to_damage(struct gt_error *e)
{
	const char *want = getenv("GPOTOOL_FAULT");

	return gt_fail(e, GT_FAILED, "fault point '%s' found nothing to damage", want ? want : "");
}
