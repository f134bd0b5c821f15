/* The GPO damage points of the fault tests (GPOTOOL_FAULT, core/fault.h): they prove that the
 * read-back of GPT.INI and the verification of Registry.xml refuse a file that is not what was
 * asked for. */
#ifndef GPOTOOL_GPO_FAULT_H
#define GPOTOOL_GPO_FAULT_H

#include "core/error.h"
#include "core/sbuf.h"

/* After GPT.INI is rendered with the bumped version and before it is read back:
 *   gptini-rendered-version   one digit of the Version changed */
void fault_gptini_rendered(struct sbuf *gpt);

/* After the Registry.xml edit and before its verification; name is the edited item's
 * value name:
 *   gpp-applied-value    the edited item's value attribute changed
 *   gpp-applied-other    another item's value attribute changed
 *   gpp-applied-clsid    the edited item's Registry clsid changed (only the schema knows it)
 * 0, or -1 (GT_FAILED) when there was nothing to damage. */
int fault_gpp_applied(struct sbuf *xml, const char *name, struct gt_error *e);

#endif
