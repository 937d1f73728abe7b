// TEST DOUBLE: see im2col.cpp.
extern "C" float stand_in_max_float(const float *data, int n) {
  float best = n > 0 ? data[0] : 0.0f;
  for (int i = 1; i < n; ++i) best = data[i] > best ? data[i] : best;
  return best;
}
