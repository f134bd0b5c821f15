/* The folder of templates and data tables (templates/ in the source tree, installed by make
 * install): the knowledge gpotool reads at run time. */
#ifndef GPOTOOL_DATADIR_H
#define GPOTOOL_DATADIR_H

/* Where the templates/ data lives: GPOTOOL_DATADIR, the installed path, or the build tree. */
const char *gpotool_datadir(void);
/* datadir + "/" + name in static storage. */
const char *gpotool_data_file(const char *name);

#endif
