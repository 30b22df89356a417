/*
 * child.h - entry point of a plane's child process; see child.c.
 */
#ifndef HAVEN_CHILD_H
#define HAVEN_CHILD_H

int child_main(int argc, char **argv);

#endif
