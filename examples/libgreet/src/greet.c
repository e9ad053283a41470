#include <stdio.h>
#include "greet.h"

size_t greet(char *buf, size_t size, const char *name) {
  int n = snprintf(buf, size, "hello, %s", name);
  return n < 0 ? 0 : (size_t)n;
}
