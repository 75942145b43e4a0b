/*===- probe.h - Calibration probes inside the runtime ----------*- C -*-===*
 *
 * What session.c and probe.c share: the statistics of a probe live in its
 * session; the probe kernels find them through the run in progress.
 *
 *===----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_PROBE_H
#define SINTER_RUNTIME_PROBE_H

#include "sinter/runtime.h"

/* Probe `id` of the session running on this thread, or NULL outside a run
 * or when the probe is not of `kind`. */
sinter_probe_stats *sinter_rt_active_probe(int64_t id, sinter_probe_kind kind);

/* Empty statistics (extremes at +-infinity); the arrays come with the
 * first call, which knows their sizes. */
void sinter_probe_init(sinter_probe_stats *stats);
/* Frees what the probe owns (its name and arrays). */
void sinter_probe_release(sinter_probe_stats *stats);

#endif /* SINTER_RUNTIME_PROBE_H */
