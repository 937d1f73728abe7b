// TEST DOUBLE: a stand-in for Mocha's native extension source, written for this
// project. It is compiled for real (g++ -fopenmp) so that the build and the
// loading of libmochaext.so are exercised, not the numerics.
extern "C" void stand_in_scale_float(float *data, int n, float factor) {
#pragma omp parallel for
  for (int i = 0; i < n; ++i) data[i] *= factor;
}
