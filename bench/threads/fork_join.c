/* fork_join: what one parallel region costs, libomp against a plain pthread
 * pool — the two ways compiled models could run their parallel loops.
 *
 * Each region splits N iterations of a tiny body (a few flops per element
 * over a small array) between T threads and waits for all of them; the
 * figure is the time per region minus the time the same work takes on one
 * thread. Built and run by bench/threads/run.sh; see bench/NOTES.md. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kElements = 4096, kRegions = 20000 };
static float data[kElements];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void body(int begin, int end) {
  for (int i = begin; i < end; ++i)
    data[i] = data[i] * 0.999f + 0.001f;
}

/* A pool as a runtime would have one: workers spin on a generation counter
 * for a while, then sleep on a condition variable. */
typedef struct pool {
  int threads;
  pthread_t *workers;
  atomic_int generation, remaining, stop;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
} pool;

static pool the_pool;

static void run_chunk(int worker) {
  int chunk = (kElements + the_pool.threads - 1) / the_pool.threads;
  int begin = worker * chunk, end = begin + chunk;
  body(begin, end < kElements ? end : kElements);
}

static void *worker_main(void *arg) {
  int worker = (int)(long)arg, seen = 0;
  for (;;) {
    int spins = 0;
    while (atomic_load(&the_pool.generation) == seen &&
           !atomic_load(&the_pool.stop)) {
      if (++spins > 200000) { /* then sleep until woken */
        pthread_mutex_lock(&the_pool.mutex);
        while (atomic_load(&the_pool.generation) == seen &&
               !atomic_load(&the_pool.stop))
          pthread_cond_wait(&the_pool.wake, &the_pool.mutex);
        pthread_mutex_unlock(&the_pool.mutex);
      }
    }
    if (atomic_load(&the_pool.stop))
      return NULL;
    seen = atomic_load(&the_pool.generation);
    run_chunk(worker);
    atomic_fetch_sub(&the_pool.remaining, 1);
  }
}

static void pool_start(int threads) {
  the_pool.threads = threads;
  pthread_mutex_init(&the_pool.mutex, NULL);
  pthread_cond_init(&the_pool.wake, NULL);
  the_pool.workers = calloc((size_t)threads, sizeof(pthread_t));
  for (int t = 1; t < threads; ++t)
    pthread_create(&the_pool.workers[t], NULL, worker_main, (void *)(long)t);
}

static void pool_parallel_for(void) {
  atomic_store(&the_pool.remaining, the_pool.threads - 1);
  pthread_mutex_lock(&the_pool.mutex);
  atomic_fetch_add(&the_pool.generation, 1);
  pthread_cond_broadcast(&the_pool.wake);
  pthread_mutex_unlock(&the_pool.mutex);
  run_chunk(0);
  while (atomic_load(&the_pool.remaining) > 0)
    ;
}

static void pool_stop(void) {
  atomic_store(&the_pool.stop, 1);
  pthread_mutex_lock(&the_pool.mutex);
  pthread_cond_broadcast(&the_pool.wake);
  pthread_mutex_unlock(&the_pool.mutex);
  for (int t = 1; t < the_pool.threads; ++t)
    pthread_join(the_pool.workers[t], NULL);
  free(the_pool.workers);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  double start = now();
  for (int r = 0; r < kRegions; ++r)
    body(0, kElements);
  double serial = (now() - start) / kRegions;

  omp_set_num_threads(threads);
  for (int r = 0; r < 100; ++r) { /* warm up the team */
#pragma omp parallel for schedule(static)
    for (int i = 0; i < kElements; ++i)
      data[i] = data[i] * 0.999f + 0.001f;
  }
  start = now();
  for (int r = 0; r < kRegions; ++r) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < kElements; ++i)
      data[i] = data[i] * 0.999f + 0.001f;
  }
  double openmp = (now() - start) / kRegions;

  pool_start(threads);
  for (int r = 0; r < 100; ++r)
    pool_parallel_for();
  start = now();
  for (int r = 0; r < kRegions; ++r)
    pool_parallel_for();
  double pooled = (now() - start) / kRegions;
  pool_stop();

  printf("{\"threads\": %d, \"elements\": %d, \"serial_us\": %.3f, "
         "\"libomp_us\": %.3f, \"pool_us\": %.3f}\n",
         threads, kElements, serial * 1e6, openmp * 1e6, pooled * 1e6);
  return 0;
}
