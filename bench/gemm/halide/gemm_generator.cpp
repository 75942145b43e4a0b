// An fp32 GEMM C = A B written as a Halide 14 generator: the attempt at
// generating the runtime's matmul kernel ahead of time with Halide that
// issue 6 asks for, measured against the hand-written kernel by
// bench/gemm/generated.py. Halide is built on LLVM 14, so this lives in its
// own CMake project (DESIGN.md) and only its objects reach the benchmark.
//
// Layouts are the runtime's: A row-major M x K, B row-major K x N, or with
// packed_b=true B in the slivers sinterc packs constant weights into
// (SINTER_MATMUL_PACK_WIDTH columns, from the runtime's header: a sliver
// K x 16 contiguous), so the comparison with the kernel's packed-weight
// path is like for like.
//
// The schedule is the kernel's blocking written in Halide: a register block
// of `rows` x one sliver of C (two vectors on AVX2, one on AVX-512)
// accumulated over the whole depth in registers
// (the update fully unrolled over the block, reduction outermost), register
// blocks swept over a cache block of `block_rows` x `block_cols` of C, the
// depth split in `depth_block` steps with A's block copied into a
// contiguous buffer once per cache block (the kernel's packing of A), and
// cache blocks spread over Halide's thread pool.
#include "Halide.h"

#include "sinter/kernels.h"

namespace {

using namespace Halide;

class Gemm : public Generator<Gemm> {
public:
  GeneratorParam<bool> packed_b{"packed_b", false};
  GeneratorParam<int> rows{"rows", 12};
  GeneratorParam<int> block_rows{"block_rows", 96};
  GeneratorParam<int> block_cols{"block_cols", 512};
  GeneratorParam<int> depth_block{"depth_block", 256};
  GeneratorParam<bool> pack_a{"pack_a", true};

  Input<Buffer<float>> a{"a", 2};   // (k, i): K x M, k innermost
  Input<Buffer<float>> b{"b", 3};   // (j, k, 0) or packed (jj, k, sliver)
  Output<Buffer<float>> c{"c", 2};  // (j, i)

  void generate() {
    const int width = SINTER_MATMUL_PACK_WIDTH;
    Var i("i"), j("j"), p("p"), jj("jj"), js("js"), kb("kb");
    Expr depth = a.dim(0).extent();
    Expr columns = b.dim(0).extent();  // N, when B is not packed
    Expr blocks = (depth + depth_block - 1) / depth_block;

    // B as slivers of `width` columns (jj, p, js), a sliver's K x width
    // contiguous: the packed weight as it comes, or B copied into that
    // layout one block of depth and columns at a time.
    Func slivers("slivers");
    if (packed_b) {
      slivers(jj, p, js) = b(jj, p, js);
    } else {
      Expr column = js * width + jj;
      slivers(jj, p, js) =
          select(column < columns, b(min(column, columns - 1), p, 0), 0.0f);
    }
    Func apacked("apacked");
    apacked(p, i) = a(p, i);

    // The depth in blocks: a register block of C accumulates one block of
    // depth in registers (`partial`), then is added to C's block in memory,
    // so the blocks of A and B a cache block reads stay in the caches.
    RDom inner(0, depth_block, "inner");
    inner.where(kb * depth_block + inner < depth);
    Func partial("partial");
    partial(jj, i, js, kb) = 0.0f;
    // The predicate keeps the last block inside K; bounds inference does not
    // read predicates, so the index also promises it.
    Expr step = unsafe_promise_clamped(kb * depth_block + inner, 0, depth - 1);
    partial(jj, i, js, kb) += apacked(step, i) * slivers(jj, step, js);

    RDom outer(0, blocks, "outer");
    Func acc("acc");
    acc(jj, i, js) = 0.0f;
    acc(jj, i, js) += partial(jj, i, js, outer);
    c(j, i) = acc(j % width, i, j / width);

    // Schedule.
    const int vec = natural_vector_size<float>();
    Var jb("jb"), ib("ib"), tile("tile"), jo("jo"), ji("ji"), io("io"), ii("ii");
    c.tile(j, i, jb, ib, j, i, block_cols, block_rows, TailStrategy::GuardWithIf)
        .fuse(jb, ib, tile)
        .parallel(tile)
        .split(j, jo, ji, width, TailStrategy::GuardWithIf)
        .vectorize(ji, vec);
    acc.compute_at(c, tile).vectorize(jj, vec);
    acc.update()
        .split(i, io, ii, rows, TailStrategy::GuardWithIf)
        .reorder(jj, ii, js, io, outer)
        .vectorize(jj, vec)
        .unroll(jj)
        .unroll(ii);
    partial.compute_at(acc, js)
        .bound_extent(jj, width)
        .bound_extent(i, rows)
        .vectorize(jj, vec)
        .unroll(jj)
        .unroll(i);
    partial.update()
        .reorder(jj, i, inner)
        .vectorize(jj, vec)
        .unroll(jj)
        .unroll(i);
    if (pack_a)
      apacked.compute_at(acc, outer).store_in(MemoryType::Heap).reorder_storage(i, p);
    else
      apacked.compute_inline();
    if (packed_b)
      slivers.compute_inline();
    else
      slivers.compute_at(acc, outer).store_in(MemoryType::Heap).vectorize(jj, vec);
    acc.bound(jj, 0, width);

    // The runtime's buffers: dense rows, k innermost.
    for (int d = 0; d < 2; ++d) {
      a.dim(d).set_min(0);
      c.dim(d).set_min(0);
    }
    a.dim(0).set_stride(1);
    c.dim(0).set_stride(1);
    b.dim(0).set_stride(1).set_min(0);
    if (packed_b) {
      b.dim(0).set_bounds(0, width);
      b.dim(1).set_stride(width);
    }
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Gemm, sinter_gemm)
