/*===- probe.c - Calibration probes of instrumented models -----------------===*
 *
 * The kernels that `sinter.probe_tensor`, `sinter.probe_attention` and
 * `sinter.probe_routing` lower to in the build that `sinterc --calibrate`
 * runs. They only read their operands and add to the statistics of the
 * session whose run is in progress (sums in double, so that the order of
 * runs does not matter to the digits the stats file keeps). Allocation
 * failures drop the statistic that needed the memory, never the run.
 *
 *===-----------------------------------------------------------------------===*/
#include "probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sinter_probe_init(sinter_probe_stats *stats) {
  stats->min = INFINITY;
  stats->max = -INFINITY;
}

void sinter_probe_release(sinter_probe_stats *stats) {
  free((char *)stats->name);
  free(stats->channel_abs_max);
  free(stats->channel_abs_sum);
  free(stats->channel_sum);
  free(stats->channel_sq_sum);
  free(stats->samples);
  free(stats->key_mass);
  free(stats->key_rows);
  free(stats->entropy_sum);
  free(stats->output_norm_sum);
  free(stats->choices);
}

/* The histogram bin of |x| (types.h): the exponent gives the octave, the
 * top of the mantissa the quarter (thresholds: ceil((2^(k/4) - 1) * 2^23)). */
static int magnitude_bin(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  bits &= 0x7fffffffu;
  int exponent = (int)(bits >> 23) - 127;
  if (exponent < SINTER_PROBE_HISTOGRAM_MIN_EXPONENT)
    return 0;
  uint32_t mantissa = bits & 0x7fffffu;
  int quarter = (mantissa >= 1587185u) + (mantissa >= 3474676u) +
                (mantissa >= 5719293u);
  int bin = 1 +
            (exponent - SINTER_PROBE_HISTOGRAM_MIN_EXPONENT) *
                SINTER_PROBE_HISTOGRAM_BINS_PER_OCTAVE +
            quarter;
  return bin < SINTER_PROBE_HISTOGRAM_BINS ? bin
                                           : SINTER_PROBE_HISTOGRAM_BINS - 1;
}

/* Reservoir sampling (Vitter's algorithm R) of the rows of x, with a fixed
 * generator so that calibration is reproducible. */
static void sample_rows(sinter_probe_stats *p, const sinter_memref3_f32 *x) {
  int64_t outer = x->sizes[0], channels = x->sizes[1], inner = x->sizes[2];
  if (!p->samples) {
    p->samples = malloc((size_t)SINTER_PROBE_SAMPLE_ROWS * (size_t)channels *
                        sizeof(float));
    if (!p->samples)
      return;
  }
  const float *base = x->aligned + x->offset;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t slot = p->rows_seen;
      if (slot >= SINTER_PROBE_SAMPLE_ROWS) {
        /* splitmix64 of the row's number: uniform in [0, rows_seen]. */
        uint64_t z = (uint64_t)p->rows_seen + 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        slot = (int64_t)(z % (uint64_t)(p->rows_seen + 1));
      }
      ++p->rows_seen;
      if (slot >= SINTER_PROBE_SAMPLE_ROWS)
        continue;
      float *row = p->samples + slot * channels;
      for (int64_t c = 0; c < channels; ++c)
        row[c] = base[o * x->strides[0] + c * x->strides[1] +
                      i * x->strides[2]];
      if (slot >= p->sample_rows)
        p->sample_rows = slot + 1;
    }
}

void _mlir_ciface_sinter_probe_tensor_f32(int64_t id,
                                          const sinter_memref3_f32 *x) {
  sinter_probe_stats *p = sinter_rt_active_probe(id, SINTER_PROBE_TENSOR);
  if (!p)
    return;
  ++p->calls;
  int64_t outer = x->sizes[0], channels = x->sizes[1], inner = x->sizes[2];
  if (p->calls == 1) {
    p->channels = channels;
    p->channel_abs_max = calloc((size_t)channels + 1, sizeof(double));
    p->channel_abs_sum = calloc((size_t)channels + 1, sizeof(double));
    p->channel_sum = calloc((size_t)channels + 1, sizeof(double));
    p->channel_sq_sum = calloc((size_t)channels + 1, sizeof(double));
  }
  int per_channel = channels == p->channels && p->channel_abs_max &&
                    p->channel_abs_sum && p->channel_sum && p->channel_sq_sum;
  if (!per_channel)
    ++p->channel_mismatches;
  const float *base = x->aligned + x->offset;
  double lo = p->min, hi = p->max, sum = 0, squares = 0;
  int64_t nans = 0;
  for (int64_t c = 0; c < channels; ++c) {
    double abs_max = 0, abs_sum = 0, channel_sum = 0, sq_sum = 0;
    for (int64_t o = 0; o < outer; ++o) {
      const float *row = base + o * x->strides[0] + c * x->strides[1];
      for (int64_t i = 0; i < inner; ++i) {
        float v = row[i * x->strides[2]];
        if (isnan(v)) {
          ++nans;
          continue;
        }
        double d = v, a = fabs(d);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        channel_sum += d;
        sq_sum += d * d;
        abs_max = a > abs_max ? a : abs_max;
        abs_sum += a;
        ++p->histogram[magnitude_bin(v)];
      }
    }
    if (per_channel) {
      if (abs_max > p->channel_abs_max[c])
        p->channel_abs_max[c] = abs_max;
      p->channel_abs_sum[c] += abs_sum;
      p->channel_sum[c] += channel_sum;
      p->channel_sq_sum[c] += sq_sum;
    }
    sum += channel_sum;
    squares += sq_sum;
  }
  if (per_channel)
    sample_rows(p, x);
  p->min = lo;
  p->max = hi;
  p->sum += sum;
  p->sum_squares += squares;
  p->nan_count += nans;
  p->count += outer * channels * inner - nans;
}

/* Makes room for `keys` key positions, keeping what was recorded. */
static int grow_keys(sinter_probe_stats *p, int64_t keys) {
  if (keys <= p->keys)
    return 1;
  double *mass = calloc((size_t)(p->heads * keys), sizeof(double));
  int64_t *rows = calloc((size_t)(p->heads * keys), sizeof(int64_t));
  if (!mass || !rows) {
    free(mass);
    free(rows);
    return 0;
  }
  for (int64_t h = 0; h < p->heads; ++h)
    for (int64_t j = 0; j < p->keys; ++j) {
      mass[h * keys + j] = p->key_mass[h * p->keys + j];
      rows[h * keys + j] = p->key_rows[h * p->keys + j];
    }
  free(p->key_mass);
  free(p->key_rows);
  p->key_mass = mass;
  p->key_rows = rows;
  p->keys = keys;
  return 1;
}

static float at4(const sinter_memref4_f32 *m, int64_t a, int64_t b, int64_t c,
                 int64_t d) {
  return m->aligned[m->offset + a * m->strides[0] + b * m->strides[1] +
                    c * m->strides[2] + d * m->strides[3]];
}

void _mlir_ciface_sinter_probe_attention_f32(
    int64_t id, const sinter_memref4_f32 *q, const sinter_memref4_f32 *k,
    const sinter_memref4_f32 *mask, const sinter_memref4_f32 *out,
    float scale, int32_t flags) {
  sinter_probe_stats *p = sinter_rt_active_probe(id, SINTER_PROBE_ATTENTION);
  if (!p)
    return;
  ++p->calls;
  int64_t batch = q->sizes[0], heads = q->sizes[1], queries = q->sizes[2],
          depth = q->sizes[3], kv_heads = k->sizes[1], keys = k->sizes[2],
          out_depth = out->sizes[3];
  if (!p->entropy_sum) {
    p->heads = heads;
    p->entropy_sum = calloc((size_t)heads, sizeof(double));
    p->output_norm_sum = calloc((size_t)heads, sizeof(double));
  }
  double *probabilities = malloc(((size_t)keys + 1) * sizeof(double));
  if (heads != p->heads || kv_heads < 1 || heads % kv_heads != 0 ||
      !p->entropy_sum || !p->output_norm_sum || !probabilities ||
      !grow_keys(p, keys)) {
    free(probabilities);
    ++p->channel_mismatches;
    return;
  }
  int64_t group = heads / kv_heads;
  /* Causal masks align the last query with the last key (decoding). */
  int64_t causal_offset = keys - queries;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < queries; ++i) {
        double largest = -INFINITY;
        for (int64_t j = 0; j < keys; ++j) {
          double s = -INFINITY;
          if (!(flags & SINTER_ATTENTION_CAUSAL) || j <= i + causal_offset) {
            double dot = 0;
            for (int64_t d = 0; d < depth; ++d)
              dot += (double)at4(q, b, h, i, d) * at4(k, b, h / group, j, d);
            s = scale * dot;
            if (flags & SINTER_ATTENTION_HAS_MASK)
              s += at4(mask, mask->sizes[0] == 1 ? 0 : b,
                       mask->sizes[1] == 1 ? 0 : h, mask->sizes[2] == 1 ? 0 : i,
                       mask->sizes[3] == 1 ? 0 : j);
          }
          probabilities[j] = s;
          largest = s > largest ? s : largest;
        }
        if (largest == -INFINITY || isnan(largest))
          continue;
        double total = 0;
        for (int64_t j = 0; j < keys; ++j) {
          probabilities[j] = exp(probabilities[j] - largest);
          total += probabilities[j];
        }
        double entropy = 0;
        for (int64_t j = 0; j < keys; ++j) {
          double pj = probabilities[j] / total;
          p->key_mass[h * p->keys + j] += pj;
          if (pj > 0) {
            ++p->key_rows[h * p->keys + j];
            entropy -= pj * log(pj);
          }
        }
        p->entropy_sum[h] += entropy;
        double norm = 0;
        for (int64_t d = 0; d < out_depth; ++d) {
          double o = at4(out, b, h, i, d);
          norm += o * o;
        }
        p->output_norm_sum[h] += sqrt(norm);
      }
  p->rows += batch * queries;
  free(probabilities);
}

void _mlir_ciface_sinter_probe_routing(int64_t id,
                                       const sinter_memref1_i64 *indices,
                                       int64_t experts) {
  sinter_probe_stats *p = sinter_rt_active_probe(id, SINTER_PROBE_ROUTING);
  if (!p)
    return;
  ++p->calls;
  if (!p->choices) {
    p->choices = calloc((size_t)experts + 1, sizeof(int64_t));
    p->experts = p->choices ? experts : 0;
  }
  const int64_t *base = indices->aligned + indices->offset;
  for (int64_t i = 0; i < indices->sizes[0]; ++i) {
    int64_t e = base[i * indices->strides[0]];
    if (e >= 0 && e < p->experts)
      ++p->choices[e];
    else
      ++p->out_of_range;
    ++p->count;
  }
}
