int main(void) {
  return missing_function();   /* a typo the compiler will not forgive */
}
