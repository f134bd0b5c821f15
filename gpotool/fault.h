/* Named points where tests kill gpotool (GPOTOOL_FAULT=name), to prove that an interrupted
 * write leaves every target whole and the journal able to finish or undo it. */
#ifndef GPOTOOL_FAULT_H
#define GPOTOOL_FAULT_H

/* Dies by SIGKILL here when GPOTOOL_FAULT names this point; otherwise does nothing. */
void fault_point(const char *name);

#endif
