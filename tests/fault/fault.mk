# Fault injection for the tests (tests/t4400-fault-injection.sh): an LD_PRELOAD shim that
# fails one write, fsync, rename, link or copy_file_range of gpotool with ENOSPC or EIO.
# Included from the Makefile; `check` depends on build/faultshim.so.

build/faultshim.so: tests/fault/faultshim.c
	@mkdir -p $(@D)
	@echo "  CC/SO   $@"
	@$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g -shared -fPIC -o $@ $< -ldl
