// OpenBLAS's cblas.h also declares its extensions (openblas_set_num_threads, openblas_get_corename).
#include <cblas.h>

// The pthread build of OpenBLAS starts a worker pool when it is loaded, and an idle worker spins (sched_yield) for
// a while before it sleeps: CPU taken from the engine's own threads. blas_thread_shutdown_ (exported by the
// threaded builds, used there around fork) ends the pool. Weak, so a serial or OpenMP build without it links too.
extern int blas_thread_shutdown_(void) __attribute__((weak));

static inline void ucb_openblas_stop_thread_pool(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
