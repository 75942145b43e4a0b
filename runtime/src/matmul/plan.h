/*===- plan.h - Cutting a product into tiles for the threads ---------------===*
 *
 * How many tiles of which rows and columns a product runs as, for a
 * given number of threads.
 *
 * Part of matmul.c's translation unit (included there once), so that its
 * static functions are inlined into each CPU-feature variant of the
 * tile functions and compiled for that variant's vector extension.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_MATMUL_PLAN_H
#define SINTER_RUNTIME_SRC_MATMUL_PLAN_H

#include "problem.h"

typedef struct tile_scratch {
  float *a, *b;
} tile_scratch;

/* The work is cut into tiles of (batch, a range of rows, up to p->nc
 * columns);
 * the rows are split only as far as needed for every thread to have a few
 * tiles, since each split packs its B blocks again. */
typedef struct tiling {
  int64_t column_width, column_blocks, row_splits, rows_per_split, count;
} tiling;

/* Cuts the columns into `blocks` blocks of equal width in whole `unit`s
 * (the last may be narrower, and rounding may leave fewer of them). */
static void cut_columns(const problem *p, int64_t blocks, int64_t unit,
                        tiling *t) {
  t->column_width = (p->n + blocks - 1) / blocks;
  t->column_width = (t->column_width + unit - 1) / unit * unit;
  t->column_blocks = (p->n + t->column_width - 1) / t->column_width;
}

static tiling plan_tiles(const problem *p, int threads) {
  tiling t;
  /* Streaming B: one long column range per thread, so that each row of B
   * is read in long runs. */
  /* Packing: blocks of at most p->nc columns, of equal widths so that the
   * threads' shares balance. */
  int64_t blocks = p->m < kStreamRows ? threads : (p->n + p->nc - 1) / p->nc;
  /* Rows split in whole packed blocks of A (or, for a packed weight, in
   * two register blocks), into enough tiles for the threads' shares to
   * even out: 2 per thread. Each tile packs its rows of A again and
   * reads its columns of B again, which on the models' products (a few
   * milliseconds at most) costs more than the balance that more tiles buy:
   * 4 and 8 per thread ran slower, 1 unevenly (bench/NOTES.md). One
   * thread needs no split. */
  int64_t row_unit = p->packed_b ? 2 * kMR : p->wide ? kMCw : kMC;
  int64_t row_blocks =
      p->m < kStreamRows ? 1 : (p->m + row_unit - 1) / row_unit;
  int64_t wanted = threads == 1 ? 1 : 2 * (int64_t)threads;
  /* The heap scratch's B blocks are 2 MiB: a second tile per thread would
   * split the rows and pack every block twice (bench/NOTES.md). */
  if (p->heap_blocks)
    wanted = threads;
  /* Column blocks are whole slivers (pairs of them on AVX-512). */
  int64_t unit = kNR, splits = 0;
  if ((p->packed_b || p->conv) && p->m >= kStreamRows) {
    /* A packed weight can be cut either way: each further split of the
     * rows reads all of B again, each further block of columns packs A
     * again. Of the cuts into enough tiles, take the one that reads and
     * packs least, splits * N + blocks * M (the models' products have few
     * rows and wide weights: gpt-base's 128 x 768 x 768 ran as 6 x 2
     * tiles, 6 reads of B, and runs as 2 x 8); if no cut gives enough
     * tiles, the one that gives most. A convolution's B is packed from
     * its input's windows, an address computation per element: each split
     * of its rows costs that packing again, counted twice. */
    unit = p->packed_b && p->wide ? 2 * kNR : kNR;
    const int64_t b_weight = p->conv ? 2 : 1;
    const int64_t most_blocks = (p->n + unit - 1) / unit,
                  per_batch = (wanted + p->batch - 1) / p->batch;
    int64_t best_blocks = blocks, best_cost = 0, best_tiles = 0;
    for (int64_t s = 1; s <= row_blocks; ++s) {
      int64_t cut = (per_batch + s - 1) / s;
      cut = cut < blocks ? blocks : cut > most_blocks ? most_blocks : cut;
      int64_t tiles = s * cut, cost = s * b_weight * p->n + cut * p->m;
      int enough = tiles >= per_batch, had_enough = best_tiles >= per_batch;
      int better = splits == 0 || (enough ? !had_enough || cost < best_cost
                                          : !had_enough && tiles > best_tiles);
      if (better) {
        splits = s;
        best_blocks = cut;
        best_cost = cost;
        best_tiles = tiles;
      }
    }
    blocks = best_blocks;
  }
  cut_columns(p, blocks, unit, &t);
  if (splits == 0) {
    int64_t have = p->batch * t.column_blocks;
    splits = have >= wanted ? 1 : (wanted + have - 1) / have;
    if (splits > row_blocks)
      splits = row_blocks;
  }
  t.row_splits = splits;
  t.rows_per_split =
      (row_blocks + t.row_splits - 1) / t.row_splits * row_unit;
  t.row_splits = (p->m + t.rows_per_split - 1) / t.rows_per_split;
  if (t.row_splits < 1)
    t.row_splits = 1;
  t.count = p->batch * t.column_blocks * t.row_splits;
  /* Tiles of equal size in a count that is not a multiple of the threads
   * leave a thread idle at the end: gpt-base's 128 x 2304 x 768 ran as 5
   * tiles on 2 threads, 3 + 2 (bench/NOTES.md). A few more, narrower
   * column blocks, where they divide. */
  if (threads > 1 && p->m >= kStreamRows && t.count % threads != 0) {
    const int64_t most_blocks = (p->n + unit - 1) / unit;
    for (int64_t more = t.column_blocks + 1;
         more <= most_blocks && more <= t.column_blocks + threads; ++more) {
      tiling narrower = t;
      cut_columns(p, more, unit, &narrower);
      narrower.count = p->batch * narrower.column_blocks * t.row_splits;
      if (narrower.count % threads == 0) {
        t = narrower;
        break;
      }
    }
  }
  return t;
}

#endif /* SINTER_RUNTIME_SRC_MATMUL_PLAN_H */
