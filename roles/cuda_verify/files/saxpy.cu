// cuda_verify smoke test: y = a*x + y on the GPU, checked element by element
// against the same arithmetic on the host. Prints one JSON line; exit 0 only on
// a correct result.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

__global__ void saxpy(int n, float a, const float *x, float *y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

static int fail(const char *what, cudaError_t err) {
  printf("{\"ran\": true, \"passed\": false, \"error\": \"%s: %s\"}\n", what, cudaGetErrorString(err));
  return 1;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : (1 << 20);
  const float a = 2.5f;
  float *x = (float *)malloc(n * sizeof(float));
  float *y = (float *)malloc(n * sizeof(float));
  float *expect = (float *)malloc(n * sizeof(float));
  for (int i = 0; i < n; i++) {
    x[i] = (float)(i % 1000) * 0.001f;
    y[i] = (float)((i * 7) % 1000) * 0.002f;
    expect[i] = a * x[i] + y[i];
  }
  float *dx, *dy;
  cudaError_t err;
  if ((err = cudaMalloc(&dx, n * sizeof(float))) != cudaSuccess) return fail("cudaMalloc", err);
  if ((err = cudaMalloc(&dy, n * sizeof(float))) != cudaSuccess) return fail("cudaMalloc", err);
  cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start);
  saxpy<<<(n + 255) / 256, 256>>>(n, a, dx, dy);
  cudaEventRecord(stop);
  if ((err = cudaGetLastError()) != cudaSuccess) return fail("kernel launch", err);
  if ((err = cudaEventSynchronize(stop)) != cudaSuccess) return fail("kernel run", err);
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  if ((err = cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost)) != cudaSuccess) return fail("copy back", err);
  double max_err = 0.0;
  int wrong = 0;
  for (int i = 0; i < n; i++) {
    double e = fabs((double)y[i] - (double)expect[i]);
    if (e > max_err) max_err = e;
    if (e > 1e-5) wrong++;
  }
  int dev = 0;
  cudaDeviceProp prop;
  cudaGetDevice(&dev);
  cudaGetDeviceProperties(&prop, dev);
  printf("{\"ran\": true, \"passed\": %s, \"elements\": %d, \"wrong\": %d, \"max_abs_error\": %.3g, "
         "\"kernel_ms\": %.4f, \"device\": \"%s\", \"device_cc\": \"%d.%d\"}\n",
         wrong == 0 ? "true" : "false", n, wrong, max_err, ms, prop.name, prop.major, prop.minor);
  cudaFree(dx);
  cudaFree(dy);
  free(x);
  free(y);
  free(expect);
  return wrong == 0 ? 0 : 1;
}
