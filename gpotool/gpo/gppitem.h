/* What a GPP Registry item sets, as registry data: for reports, checks and rollback. */
#ifndef GPOTOOL_GPPITEM_H
#define GPOTOOL_GPPITEM_H

#include "gpo/gpp.h"
#include "reg/regvalue.h"

/* The value an existing GPP item carries, as registry data (REG_NONE text when it does not
 * parse as its type). v must be initialised (reg_value_init); released by the caller. */
void gpp_item_value(const struct gpp_item *it, struct reg_value *v);

#endif
