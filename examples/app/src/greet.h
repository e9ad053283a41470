#ifndef GREET_H
#define GREET_H
#include <stddef.h>
/* Writes "hello, <name>" into buf; returns the length it needed. */
size_t greet(char *buf, size_t size, const char *name);
#endif
