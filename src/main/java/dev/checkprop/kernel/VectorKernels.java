package dev.checkprop.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast path: the kernels of {@link DenseKernels} written with the Vector API
 * ({@code jdk.incubator.vector}), bit for bit equal to {@link ScalarKernels}.
 *
 * <p>Loaded reflectively by {@link Kernels} (through the {@link #INSTANCE} field) only when the
 * incubator module is in the boot layer, so no other class of the library refers to this one.
 *
 * <h2>How the bit contract is kept</h2>
 * Each vector lane holds one output element, and the lane's accumulator receives exactly the
 * documented chain of {@code fma} operations, one per step, in the documented order:
 * {@link FloatVector#fma} is the IEEE fused multiply-add per lane, exactly like {@link Math#fma}.
 * Nothing is ever summed <em>across</em> lanes: {@code reduceLanes(ADD)} has an unspecified
 * association order (and in practice a tree order different from the scalar chain), so it would
 * change the bits. Register tiles only change which elements advance together; when the reduction
 * dimension is cut into blocks (for the cache), the partial sums are stored in the output and
 * reloaded, which is the same chain interrupted, not a different one.
 *
 * <h2>One engine for the three products</h2>
 * {@link GemmKernels} maps the three products onto one {@code C = init + A B} engine; here the
 * vectors run along its {@code n} (contiguous in {@code B} and {@code C}) and {@code A} is broadcast.
 *
 * <h2>Two tile sets</h2>
 * The wide set, below, needs 32 vector registers. For CPUs with 16 (AVX2) the narrow set runs
 * 4 x 2 tiles (8 accumulators, 2 loaded vectors, one broadcast) over packed operands whose
 * indices have constant strides (see {@link #tile4x2u}), with 1-row and 1-vector remainders;
 * {@link TileChoice} picks one per JVM. Both give every element the same chain.
 *
 * <h2>Wide tile shape: 8 rows x 3 vectors</h2>
 * The micro-kernel keeps an 8 x 3 tile of accumulators (24 of the 32 AVX-512 registers; 3 more
 * hold the loaded {@code B} vectors and one the broadcast). Per step of {@code p} it issues 3
 * vector loads and 8 broadcasts for 24 FMAs, which keeps the two 512-bit FMA pipes of the target
 * (AMD Zen 5) busy while the loads stay well under the load ports' throughput, and 24 independent
 * chains cover the FMA latency (4 cycles x 2 pipes = 8 chains needed at least). Measured on that
 * machine against 4x3, 4x4, 5x4, 6x2, 6x3, 6x4, 7x3, 8x2, 12x2 and 4x6, 8x3 was fastest or tied
 * on all three products; larger tiles spill registers under C2. Row remainders use 4-row and
 * 1-row kernels, column remainders 2- and 1-vector kernels (8 x 2 rather than 8 x 1 twice: at a
 * batch of 32 that is 1.6x faster, the 8 x 1 tile being bound by its 8 broadcasts per 8 FMAs).
 *
 * <h2>Cache blocking</h2>
 * The reduction dimension is cut into blocks of {@value #KC} steps so that the {@code B} panel the
 * micro-kernel streams through ({@code KC} rows x 3 vectors = 48 KiB) stays in the L1/L2 cache
 * while all row tiles pass over it. Without blocking, 1024 x 1024 x 1024 ran at 115-140 GFLOP/s
 * instead of 155-165 (single thread, JDK 17); blocks of 128 to 512 steps measured the same within
 * noise. Rows are cut into blocks of {@value #MC}. When a call covers {@value #PACK_B_ROWS} rows or
 * more (always, in the narrow set), each block's panel of B is copied into a contiguous per-thread
 * buffer and A, unless its steps are contiguous, too, as BLIS and OpenBLAS pack, so that the main
 * tiles read both at constant strides (see {@link #tile4x2u}); a call with fewer rows packs A
 * only when its steps are 512 floats or more apart (see {@link #gemm(boolean, boolean, int, int,
 * int, int, int, float[], int, int, float[], int, float[], int, float[])}).
 *
 * <h2>Subnormals</h2>
 * In flush mode ({@link Subnormals}) each output is flushed after the last block of its chain, and
 * each element-wise result after its function, in passes of their own over the range just written:
 * inside the tiles or the tanh loop the extra call made C2 box vectors.
 *
 * <h2>Column tails</h2>
 * Masked stores are not intrinsified by the JDK 17 Vector API (they fall back to a per-lane loop),
 * and a full-width store would write outside the column range (which other threads may own). So
 * a range of at least one vector width whose width is not a multiple of it ends with one full
 * vector <em>overlapping</em> the previous one, aligned to the end of the range. That vector is
 * computed from scratch, after all blocks, over the whole chain: it rewrites the overlapped
 * elements with the very same bits. (JDK 17: a masked {@code intoArray} costs about 500 ns per
 * vector on the target, against 2 ns for a plain one; JDK 25 intrinsifies it.) A range narrower
 * than one vector is computed in one vector per row whose lanes inside the range are stored one by
 * one; see {@link #gemmNarrow}.
 */
final class VectorKernels extends GemmKernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED;
    /** Lanes per vector (16 with AVX-512). */
    private static final int L = S.length();
    /** Rows of the main register tile of the wide set. */
    private static final int MR = 8;
    /** Vectors (columns) of the main register tile of the wide set. */
    private static final int NV = 3;
    /** Steps of the reduction per cache block. */
    private static final int KC = 256;
    /** Rows of {@code A} per packed block (a multiple of 8, 6 and 4). */
    private static final int MC = 192;
    /**
     * The wide set packs B's panels when the call covers this many rows: each packed panel is then
     * read by at least 6 row tiles, against the one pass that packing costs. (The narrow set always
     * packs.) Packing copies each block's panel into a contiguous per-thread buffer, as BLIS and
     * OpenBLAS do: at wide strides every step of the reduction touches another page, which defeats
     * the prefetchers, and the packed panel's constant stride lets C2 hoist the bounds checks.
     */
    private static final int PACK_B_ROWS = 48;
    /** Columns of finished panels flushed together (see {@code flushPanels}). */
    private static final int FLUSH_COLUMNS = 256;
    /**
     * Operands whose steps lie this many floats or more apart are packed even where the tiles do
     * not need constant strides: A by a call that does not pack B (few rows; the input gradient of
     * a wide layer reads W by columns), A and B by the 6 x 4 tile. With B packed, A is packed
     * whenever its steps are not contiguous.
     */
    private static final int PACK_STRIDE = 512;

    /** Per-thread panels for packing; allocated once per thread, never per call. */
    private static final ThreadLocal<float[][]> PACK = ThreadLocal.withInitial(
            () -> new float[][] {new float[KC * 4 * L], new float[KC * MC]});

    /**
     * Read reflectively by {@link Kernels}: the tile set {@link TileChoice} chose for this machine,
     * subnormal results flushed to zero.
     */
    static final VectorKernels INSTANCE = new VectorKernels(null, true);

    /**
     * The JVM's choice ({@link TileChoice#choose}: by vector width unless a property says
     * otherwise), made at the first product.
     */
    private static final class Tuned {
        static final TileChoice.Choice CHOICE = TileChoice.choose();
    }

    /** The tile set, wide (32 vector registers) or narrow (16); null: the JVM's choice. */
    private final Boolean wideSet;
    private final boolean flush;

    private VectorKernels(Boolean wideSet, boolean flush) {
        if (SI.length() != L) {
            throw new IllegalStateException("float and int vector species differ in length");
        }
        this.wideSet = wideSet;
        this.flush = flush;
    }

    /** Kernels with the given tile set and subnormal mode (for tests and benchmarks of both sets). */
    static VectorKernels of(boolean wide, boolean flush) {
        return new VectorKernels(wide, flush);
    }

    /** Lanes per vector on this JVM. */
    static int lanes() {
        return L;
    }

    private boolean wide() {
        return wideSet == null ? Tuned.CHOICE.wide() : wideSet;
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public boolean flushesSubnormals() {
        return flush;
    }

    @Override
    public DenseKernels withSubnormals(boolean flushToZero) {
        return flushToZero == flush ? this : new VectorKernels(wideSet, flushToZero);
    }

    /** Whether the wide [0] and narrow [1] sets have been compiled by {@link #warmUp}. */
    private static final boolean[] COMPILED = new boolean[2];

    /**
     * {@inheritDoc}
     *
     * <p>The Vector API needs it: until C2 has compiled a method, every vector it touches is an
     * object, a hundred times slower, and C2 compiles a tile after some 600 calls of it, whatever
     * their length. So this runs {@link TileChoice}'s tour of short products, which reaches every
     * tile and every branch (a branch C2 never saw taken would deoptimize the method later).
     */
    @Override
    public boolean warmUp(long deadlineNanos) {
        final int set = wide() ? 0 : 1;
        synchronized (COMPILED) {
            if (!COMPILED[set]) {
                COMPILED[set] = TileChoice.compile(set == 0, deadlineNanos);
                if (COMPILED[set]) {
                    elementwiseTour(deadlineNanos);
                }
            }
            return COMPILED[set];
        }
    }

    /**
     * Calls every element-wise kernel often enough for C2 to compile it, with and without
     * flushing. The executor's warm-up steps are on small networks, whose element-wise calls are
     * few and short: a 1024-layer network's first steps ran tanh in C1's code, where the Vector API
     * boxes every vector (JFR: 1.5 GB allocated in tanhInPlace before C2 compiled it). Inputs span
     * every branch of the scalar tails (the length is not a multiple of a vector) so that no branch
     * C2 never saw deoptimizes a kernel later. Changes nothing but the JIT's state.
     */
    private void elementwiseTour(long deadlineNanos) {
        final int n = 8 * L + 3;
        final float[] x = new float[n];
        final float[] y = new float[n];
        final float[] z = new float[n];
        final float[] w = new float[n];
        final VectorKernels[] modes = {this, new VectorKernels(wideSet, !flush)};
        for (int t = 0; t < 1500 && System.nanoTime() < deadlineNanos; t++) {
            final VectorKernels k = modes[t & 1];
            for (int i = 0; i < n; i++) {
                x[i] = ((i * 7 + t) % 97) * 0.25f - 12f;
                y[i] = ((i * 3 + t) % 89) * 0.01f - 0.4f;
                z[i] = x[i] * 0.5f;
                w[i] = y[i];
            }
            k.geluSecondTerm(x, z, y, w, 0, n);
            k.geluBackward(x, y, 0, n);
            k.geluInPlace(z, 0, n);
            k.sigmoidInPlace(w, 0, n);
            k.sigmoidBackward(w, y, 0, n);
            k.reluInPlace(z, 0, n);
            k.reluBackward(z, y, 0, n);
            k.tanhInPlace(x, 0, n);
            k.tanhBackward(x, y, 0, n);
            if (!k.allFinite(y)) {
                throw new AssertionError("warm-up values are finite");
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Four vector chains: the executor checks every gradient element after each step, and a
     * single scalar chain of adds took 1 ns per element, 15-20% of a step of a 1024-layer network
     * of width 256 at batch 64 (its 67 M weights against 16 M activations).
     */
    @Override
    public boolean allFinite(float[] x) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S);
        FloatVector s3 = FloatVector.zero(S);
        final int end = x.length - 4 * L;
        int i = 0;
        for (; i <= end; i += 4 * L) {
            final FloatVector v0 = FloatVector.fromArray(S, x, i);
            final FloatVector v1 = FloatVector.fromArray(S, x, i + L);
            final FloatVector v2 = FloatVector.fromArray(S, x, i + 2 * L);
            final FloatVector v3 = FloatVector.fromArray(S, x, i + 3 * L);
            s0 = s0.add(v0.sub(v0));
            s1 = s1.add(v1.sub(v1));
            s2 = s2.add(v2.sub(v2));
            s3 = s3.add(v3.sub(v3));
        }
        float tail = 0f;
        for (; i < x.length; i++) {
            tail += x[i] - x[i];
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD) + tail == 0f;
    }

    @Override
    public int rowGrain(int batch) {
        // The wide set's 6 x 4 tile serves batches of exactly four vectors, 8 x 3 all others.
        return wide() ? (batch == 4 * L ? 6 : MR) : 4;
    }

    @Override
    public String tiles() {
        final String set = wide() ? "wide 8x3" : "narrow 4x2";
        return wideSet == null ? set + " (" + Tuned.CHOICE.how() + ")" : set;
    }

    // ---------------------------------------------------------------------------------------------
    // Matrix products (the operand table is in GemmKernels)

    @Override
    void gemm(int m0, int m1, int n0, int n1, int kDim, float[] a, int aRow, int aCol,
              float[] b, int ldb, float[] c, int ldc, float[] bias) {
        gemm(wide(), flush, m0, m1, n0, n1, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
    }

    /**
     * The product with the given tile set. Cut into blocks of {@value #KC} steps of {@code p} (the
     * partial sums stored in {@code C} and reloaded: the same chain, interrupted) and of {@value #MC}
     * rows; operands whose steps are far apart in memory are first copied into contiguous per-thread
     * panels. None of this changes which operations an element's chain performs, or their order.
     */
    static void gemm(boolean wide, boolean flush, int m0, int m1, int n0, int n1, int kDim, float[] a, int aRow,
                     int aCol, float[] b, int ldb, float[] c, int ldc, float[] bias) {
        if (m0 >= m1 || n0 >= n1) {
            return;
        }
        final int width = n1 - n0;
        if (width < L) {
            gemmNarrow(flush, m0, m1, n0, n1, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
            return;
        }
        final int nFull = n0 + (width / L) * L;
        // With B packed, A is read along its unit stride or from a packed block, so that the main
        // tiles' indices are the step times a constant and C2 hoists their bounds checks out of
        // the loop (see tile4x2u).
        // A batch of four vectors runs the wide set's 6 x 4 tile, which has no constant-stride form:
        // it packs only where the strides are wide (at 256 x 256 x 64, packing it anyway cost 10%).
        final boolean sixByFour = wide && nFull - n0 == 4 * L;
        final boolean packB = sixByFour ? ldb >= PACK_STRIDE && m1 - m0 >= PACK_B_ROWS
                : !wide || m1 - m0 >= PACK_B_ROWS;
        final boolean packA = packB && !sixByFour ? aCol != 1 : aCol >= PACK_STRIDE && aRow == 1;
        final float[][] panels = packA || packB ? PACK.get() : null;
        // At least one block even when kDim == 0, so that C = init is written.
        int p0 = 0;
        do {
            final int p1 = Math.min(kDim, p0 + KC);
            final boolean first = p0 == 0;
            final boolean flushOut = flush && p1 == kDim;
            for (int mb = m0; mb < m1; mb += MC) {
                final int me = Math.min(m1, mb + MC);
                float[] pa = a;
                int ab = 0;
                int ar = aRow;
                int ac = aCol;
                if (packA) {
                    pa = panels[1];
                    ar = 1;
                    if (wide) {
                        packRows(a, aRow, aCol, mb, me, p0, p1, pa);
                        ab = -mb - p0 * MC;
                        ac = MC;
                    } else {
                        packQuads(a, aRow, aCol, mb, me, p0, p1, pa);
                        ab = -4 * p0;
                        ac = 4;
                    }
                }
                if (wide) {
                    widePanels(mb, me, n0, nFull, p0, p1, first, flushOut, pa, ab, ar, ac, b, ldb,
                            packB ? panels[0] : null, c, ldc, bias);
                } else {
                    narrowPanels(mb, me, n0, nFull, p0, p1, first, flushOut, pa, ab, ar, ac, b, ldb,
                            panels[0], c, ldc, bias);
                }
            }
            p0 = p1;
        } while (p0 < kDim);
        if (nFull < n1) {
            // The tail: one vector ending at n1, overlapping finished columns, whole chain at once.
            panel1(m0, m1, n1 - L, n1 - L, 0, kDim, true, a, 0, aRow, aCol, b, ldb, c, ldc, bias);
            if (flush) {
                flushRows(c, ldc, m0, m1, n1 - L, n1);
            }
        }
    }

    /**
     * Copies {@code B(p, n .. n + vectors*L)} for {@code p0 <= p < p1} into {@code bp}, step after
     * step, and answers the base that makes {@code B(p, n + j) = bp[base + p*ld + j]} with
     * {@code ld = vectors*L}.
     */
    private static int pack(float[] b, int ldb, int n, int vectors, int p0, int p1, float[] bp) {
        final int w = vectors * L;
        for (int p = p0; p < p1; p++) {
            System.arraycopy(b, p * ldb + n, bp, (p - p0) * w, w);
        }
        return -p0 * w;
    }

    /**
     * Copies {@code A(m, p)} for rows {@code [mb, me)} and steps {@code [p0, p1)} into {@code pa}
     * step after step at a fixed stride of {@value #MC}: {@code pa[(m - mb) + (p - p0)*MC]}. With
     * {@code aRow == 1} (the input gradient reads W by columns) each step's rows are contiguous.
     */
    private static void packRows(float[] a, int aRow, int aCol, int mb, int me, int p0, int p1, float[] pa) {
        final int rows = me - mb;
        for (int p = p0; p < p1; p++) {
            final int to = (p - p0) * MC;
            if (aRow == 1) {
                System.arraycopy(a, mb + p * aCol, pa, to, rows);
            } else {
                for (int r = 0; r < rows; r++) {
                    pa[to + r] = a[(mb + r) * aRow + p * aCol];
                }
            }
        }
    }

    /**
     * Copies the same block into panels of four rows, as BLIS packs its micro-panels: rows
     * {@code mb + 4g .. mb + 4g + 3} at {@code pa[g*4*KC + (p - p0)*4 + t]}, so that the narrow
     * tile's four broadcasts of a step read 16 consecutive bytes and its index is the step times 4
     * (with a stride of {@value #MC}, as the wide set packs, its input gradient ran about 10% slower).
     */
    private static void packQuads(float[] a, int aRow, int aCol, int mb, int me, int p0, int p1, float[] pa) {
        // Panel by panel, so that the writes are sequential.
        for (int g = mb; g < me; g += 4) {
            final int t1 = Math.min(4, me - g);
            int to = ((g - mb) >> 2) * (4 * KC);
            if (t1 == 4 && aRow == 1) {
                // The four rows of a step are contiguous. (A 128-bit vector copy was faster on
                // Temurin 25, but JDK 17 left it to the Vector API's Java code: 20x slower.)
                for (int p = p0; p < p1; p++, to += 4) {
                    final int from = g + p * aCol;
                    pa[to] = a[from];
                    pa[to + 1] = a[from + 1];
                    pa[to + 2] = a[from + 2];
                    pa[to + 3] = a[from + 3];
                }
                continue;
            }
            for (int p = p0; p < p1; p++, to += 4) {
                final int from = g * aRow + p * aCol;
                for (int t = 0; t < t1; t++) {
                    pa[to + t] = a[from + t * aRow];
                }
            }
        }
    }

    /** The wide set (32 vector registers): 8 x 3 tiles, 6 x 4 for a batch of four vectors. */
    private static void widePanels(int m0, int m1, int n0, int nFull, int p0, int p1, boolean first,
                                   boolean flushOut, float[] a, int ab, int aRow, int aCol, float[] b, int ldb,
                                   float[] bp, float[] c, int ldc, float[] bias) {
        int n = n0;
        int flushed = n0;
        if (nFull - n0 == 4 * L) {
            if (bp != null) {
                panel4(m0, m1, n, pack(b, ldb, n, 4, p0, p1, bp), p0, p1, first, a, ab, aRow, aCol,
                        bp, 4 * L, c, ldc, bias);
            } else {
                panel4(m0, m1, n, n, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            }
            flushed = flushPanels(flushOut, c, ldc, m0, m1, flushed, n + 4 * L, false);
            n += 4 * L;
        }
        for (; n + NV * L <= nFull; n += NV * L) {
            if (bp != null) {
                panel3c(m0, m1, n, pack(b, ldb, n, NV, p0, p1, bp), p0, p1, first, a, ab, aRow, aCol,
                        bp, c, ldc, bias);
            } else {
                panel3(m0, m1, n, n, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            }
            flushed = flushPanels(flushOut, c, ldc, m0, m1, flushed, n + NV * L, false);
        }
        // 0, 1 or 2 whole vectors left; two are done together.
        if (n + 2 * L <= nFull) {
            panel2(m0, m1, n, n, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            flushed = flushPanels(flushOut, c, ldc, m0, m1, flushed, n + 2 * L, false);
            n += 2 * L;
        }
        if (n < nFull) {
            panel1(m0, m1, n, n, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
        flushPanels(flushOut, c, ldc, m0, m1, flushed, nFull, true);
    }

    /**
     * After the last block of the reduction, flushes the subnormals of the finished panels
     * {@code [flushed, n)} once they span {@value #FLUSH_COLUMNS} columns, or when {@code last};
     * answers the new boundary. A pass of its own rather than inside the tiles, where C2 (JDK 17)
     * boxed the accumulators; every few panels, while they are in L2, rather than after the whole
     * row block, which at batch 4096 had to read the block's 3 MiB back from L3 (3.9% of a 256-wide
     * step), and rather than after every panel, whose rows of 16 to 48 floats made it a call per
     * two or three vectors (15% of a step with the narrow set).
     */
    private static int flushPanels(boolean flushOut, float[] c, int ldc, int m0, int m1, int flushed, int n,
                                   boolean last) {
        if (flushOut && n > flushed && (last || n - flushed >= FLUSH_COLUMNS)) {
            flushRows(c, ldc, m0, m1, flushed, n);
            return n;
        }
        return flushed;
    }

    /**
     * The narrow set (16 vector registers, as on AVX2): 4 x 2 tiles, 8 accumulators, two loaded
     * vectors and one broadcast, B always from a packed panel ({@code bp}, rows of {@code 2L}).
     */
    private static void narrowPanels(int m0, int m1, int n0, int nFull, int p0, int p1, boolean first,
                                     boolean flushOut, float[] a, int ab, int aRow, int aCol, float[] b, int ldb,
                                     float[] bp, float[] c, int ldc, float[] bias) {
        int n = n0;
        int flushed = n0;
        for (; n + 2 * L <= nFull; n += 2 * L) {
            panel2n(m0, m1, n, pack(b, ldb, n, 2, p0, p1, bp), p0, p1, first, a, ab, aRow, aCol, bp, c, ldc, bias);
            flushed = flushPanels(flushOut, c, ldc, m0, m1, flushed, n + 2 * L, false);
        }
        if (n < nFull) {
            if (aCol == 1) {
                panel1(m0, m1, n, n, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            } else {
                // A in panels of four rows (packQuads): each panel's rows are linear in m and p.
                for (int g = m0; g < m1; g += 4) {
                    panel1(g, Math.min(m1, g + 4), n, n, p0, p1, first, a, ab + ((g - m0) >> 2) * (4 * KC) - g, 1, 4,
                            b, ldb, c, ldc, bias);
                }
            }
        }
        flushPanels(flushOut, c, ldc, m0, m1, flushed, nFull, true);
    }

    /**
     * Columns {@code [n, n + 2L)} with the narrow set's 4 x 2 tiles, B packed ({@code bp}, rows of
     * {@code 2L}), A along its unit stride ({@code aCol == 1}) or packed ({@code aCol == MC}).
     */
    private static void panel2n(int m0, int m1, int n, int bn, int p0, int p1, boolean first,
                                float[] a, int ab, int aRow, int aCol, float[] bp, float[] c, int ldc,
                                float[] bias) {
        int m = m0;
        if (aCol == 1) {
            for (; m + 4 <= m1; m += 4) {
                tile4x2u(m, n, bn, p0, p1, first, a, ab, aRow, bp, c, ldc, bias);
            }
        } else {
            // A in panels of four rows (packQuads): A(m, p) = a[ab + (m - m0)/4*4KC + (m - m0)%4 + 4p].
            for (; m + 4 <= m1; m += 4) {
                tile4x2p(m, n, bn, p0, p1, first, a, ab + ((m - m0) >> 2) * (4 * KC), bp, c, ldc, bias);
            }
            for (; m < m1; m++) {
                tile1x2(m, n, bn, p0, p1, first, a, ab + ((m - m0) >> 2) * (4 * KC) + ((m - m0) & 3) - m, 1, 4,
                        bp, 2 * L, c, ldc, bias);
            }
            return;
        }
        for (; m < m1; m++) {
            tile1x2(m, n, bn, p0, p1, first, a, ab, aRow, aCol, bp, 2 * L, c, ldc, bias);
        }
    }

    /**
     * The narrow set's micro-kernel for A along its unit stride: rows {@code m..m+3}, vectors at
     * {@code n, n+L}. Every index is the step {@code p} times a constant plus a loop invariant
     * (B's panel rows are {@code 2L} apart, A's steps 1), so C2 checks the bounds once before the
     * loop instead of at every load: with the stride a variable, as in {@link #tile4x2}, the checks
     * were as many instructions as the FMAs, and with 16 registers and AVX2 the tiles ran at about
     * half the FMA peak (AMD EPYC Zen 4, {@code -XX:UseAVX=2}). Of 4x2, 4x3, 6x2, 3x2, 3x3 and 2x4
     * timed with constant strides on JDK 17 and Temurin 25, only 4x2 compiled well on both (others
     * spilled on one JVM after C2 unrolled their loops).
     */
    private static void tile4x2u(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                                 float[] bp, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * (2 * L) + bn;
            final int ap = p;
            final FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            final FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
    }

    /**
     * {@link #tile4x2u} for A in a panel of four rows ({@code packQuads}): {@code A(m + t, p) =
     * a[ab + t + 4p]}.
     */
    private static void tile4x2p(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab,
                                 float[] bp, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        final int a0 = ab;
        final int a1 = ab + 1;
        final int a2 = ab + 2;
        final int a3 = ab + 3;
        for (int p = p0; p < p1; p++) {
            final int bo = p * (2 * L) + bn;
            final int ap = p * 4;
            final FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            final FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
    }

    /** Flushes the subnormals of rows {@code [m0, m1)}, columns {@code [n0, n1)} of {@code c}. */
    private static void flushRows(float[] c, int ldc, int m0, int m1, int n0, int n1) {
        for (int m = m0; m < m1; m++) {
            flushRange(c, m * ldc + n0, m * ldc + n1);
        }
    }

    /**
     * {@link Subnormals#flush(float)} over {@code x[from, to)}: integer operations on the bits only,
     * so that flushing never does floating-point arithmetic on a subnormal (which is what is slow).
     * A pass of its own after an element-wise function, rather than inside its loop: there, the
     * extra call made C2 stop inlining tanh and box its result.
     */
    static void flushRange(float[] x, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final IntVector bits = FloatVector.fromArray(S, x, j).reinterpretAsInts();
            bits.blend(bits.and(0x80000000), bits.and(0x7fffffff).compare(VectorOperators.LT, Subnormals.MIN_NORMAL_BITS))
                    .reinterpretAsFloats().intoArray(x, j);
        }
        for (; j < to; j++) {
            x[j] = Subnormals.flush(x[j]);
        }
    }

    /** Columns {@code [n, n + 3L)}, rows {@code [m0, m1)}, steps {@code [p0, p1)}. */
    private static void panel3(int m0, int m1, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                               int aCol, float[] b, int ldb, float[] c, int ldc, float[] bias) {
        int m = m0;
        for (; m + MR <= m1; m += MR) {
            tile8x3(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
        if (m + 4 <= m1) {
            tile4x3(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            m += 4;
        }
        for (; m < m1; m++) {
            tile1x3(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
    }

    /**
     * {@link #panel3} over a packed B panel ({@code bp}, rows of {@code 3L}), A along its unit stride
     * ({@code aCol == 1}) or packed ({@code aCol == MC}).
     */
    private static void panel3c(int m0, int m1, int n, int bn, int p0, int p1, boolean first, float[] a, int ab,
                                int aRow, int aCol, float[] bp, float[] c, int ldc, float[] bias) {
        int m = m0;
        if (aCol == 1) {
            for (; m + MR <= m1; m += MR) {
                tile8x3u(m, n, bn, p0, p1, first, a, ab, aRow, bp, c, ldc, bias);
            }
        } else {
            for (; m + MR <= m1; m += MR) {
                tile8x3p(m, n, bn, p0, p1, first, a, ab, bp, c, ldc, bias);
            }
        }
        if (m + 4 <= m1) {
            tile4x3(m, n, bn, p0, p1, first, a, ab, aRow, aCol, bp, NV * L, c, ldc, bias);
            m += 4;
        }
        for (; m < m1; m++) {
            tile1x3(m, n, bn, p0, p1, first, a, ab, aRow, aCol, bp, NV * L, c, ldc, bias);
        }
    }

    /**
     * Columns {@code [n, n + 4L)}, rows {@code [m0, m1)}, steps {@code [p0, p1)}: the tile for a batch
     * of four vectors (64 samples with AVX-512), which the 3 + 1 split would stream through the
     * {@code A} rows twice, the second time with a one-vector tile bound by its broadcasts.
     */
    private static void panel4(int m0, int m1, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                               int aCol, float[] b, int ldb, float[] c, int ldc, float[] bias) {
        int m = m0;
        for (; m + 6 <= m1; m += 6) {
            tile6x4(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
        if (m < m1) {
            panel2(m, m1, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            panel2(m, m1, n + 2 * L, bn + 2 * L, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
    }

    /** Four-vector micro-kernel: rows {@code m..m+5}, vectors at {@code n .. n+3L}; 24 accumulators. */
    private static void tile6x4(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s02 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        FloatVector s03 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 3 * L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s12 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 2 * L));
        FloatVector s13 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 3 * L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s22 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 2 * L));
        FloatVector s23 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 3 * L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s32 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 2 * L));
        FloatVector s33 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 3 * L));
        FloatVector s40 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s41 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + L));
        FloatVector s42 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + 2 * L));
        FloatVector s43 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + 3 * L));
        FloatVector s50 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s51 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + L));
        FloatVector s52 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + 2 * L));
        FloatVector s53 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + 3 * L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        final int a4 = a3 + aRow;
        final int a5 = a4 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            final FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            final FloatVector b3 = FloatVector.fromArray(S, b, bo + 3 * L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            s02 = w.fma(b2, s02);
            s03 = w.fma(b3, s03);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            s12 = w.fma(b2, s12);
            s13 = w.fma(b3, s13);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            s22 = w.fma(b2, s22);
            s23 = w.fma(b3, s23);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            s32 = w.fma(b2, s32);
            s33 = w.fma(b3, s33);
            w = FloatVector.broadcast(S, a[a4 + ap]);
            s40 = w.fma(b0, s40);
            s41 = w.fma(b1, s41);
            s42 = w.fma(b2, s42);
            s43 = w.fma(b3, s43);
            w = FloatVector.broadcast(S, a[a5 + ap]);
            s50 = w.fma(b0, s50);
            s51 = w.fma(b1, s51);
            s52 = w.fma(b2, s52);
            s53 = w.fma(b3, s53);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s13.intoArray(c, c1 + 3 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s23.intoArray(c, c2 + 3 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
        s33.intoArray(c, c3 + 3 * L);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + L);
        s42.intoArray(c, c4 + 2 * L);
        s43.intoArray(c, c4 + 3 * L);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + L);
        s52.intoArray(c, c5 + 2 * L);
        s53.intoArray(c, c5 + 3 * L);
    }

    /** Columns {@code [n, n + 2L)}, rows {@code [m0, m1)}, steps {@code [p0, p1)}. */
    private static void panel2(int m0, int m1, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                               int aCol, float[] b, int ldb, float[] c, int ldc, float[] bias) {
        int m = m0;
        for (; m + MR <= m1; m += MR) {
            tile8x2(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
        if (m + 4 <= m1) {
            tile4x2(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            m += 4;
        }
        for (; m < m1; m++) {
            tile1x2(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
    }

    /** Column remainder of two vectors: rows {@code m..m+7}, vectors at {@code n, n+L}. */
    private static void tile8x2(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        final int c6 = c5 + ldc;
        final int c7 = c6 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s40 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s41 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + L));
        FloatVector s50 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s51 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + L));
        FloatVector s60 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6));
        FloatVector s61 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + L));
        FloatVector s70 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7));
        FloatVector s71 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        final int a4 = a3 + aRow;
        final int a5 = a4 + aRow;
        final int a6 = a5 + aRow;
        final int a7 = a6 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            w = FloatVector.broadcast(S, a[a4 + ap]);
            s40 = w.fma(b0, s40);
            s41 = w.fma(b1, s41);
            w = FloatVector.broadcast(S, a[a5 + ap]);
            s50 = w.fma(b0, s50);
            s51 = w.fma(b1, s51);
            w = FloatVector.broadcast(S, a[a6 + ap]);
            s60 = w.fma(b0, s60);
            s61 = w.fma(b1, s61);
            w = FloatVector.broadcast(S, a[a7 + ap]);
            s70 = w.fma(b0, s70);
            s71 = w.fma(b1, s71);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + L);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + L);
        s60.intoArray(c, c6);
        s61.intoArray(c, c6 + L);
        s70.intoArray(c, c7);
        s71.intoArray(c, c7 + L);
    }

    /** Row remainder of {@link #tile8x2}: rows {@code m..m+3}. */
    private static void tile4x2(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
    }

    /** Row remainder of {@link #tile8x2}: row {@code m}. */
    private static void tile1x2(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        final int a0 = ab + m * aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
    }

    /** Columns {@code [n, n + L)}, rows {@code [m0, m1)}, steps {@code [p0, p1)}. */
    private static void panel1(int m0, int m1, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                               int aCol, float[] b, int ldb, float[] c, int ldc, float[] bias) {
        int m = m0;
        for (; m + MR <= m1; m += MR) {
            tile8x1(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
        if (m + 4 <= m1) {
            tile4x1(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
            m += 4;
        }
        for (; m < m1; m++) {
            tile1x1(m, n, bn, p0, p1, first, a, ab, aRow, aCol, b, ldb, c, ldc, bias);
        }
    }

    /** The main micro-kernel: rows {@code m..m+7}, vectors at {@code n, n+L, n+2L}. */
    private static void tile8x3(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        final int c6 = c5 + ldc;
        final int c7 = c6 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s02 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s12 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 2 * L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s22 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 2 * L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s32 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 2 * L));
        FloatVector s40 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s41 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + L));
        FloatVector s42 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + 2 * L));
        FloatVector s50 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s51 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + L));
        FloatVector s52 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + 2 * L));
        FloatVector s60 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6));
        FloatVector s61 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + L));
        FloatVector s62 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + 2 * L));
        FloatVector s70 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7));
        FloatVector s71 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + L));
        FloatVector s72 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + 2 * L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        final int a4 = a3 + aRow;
        final int a5 = a4 + aRow;
        final int a6 = a5 + aRow;
        final int a7 = a6 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            final FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            s02 = w.fma(b2, s02);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            s12 = w.fma(b2, s12);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            s22 = w.fma(b2, s22);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            s32 = w.fma(b2, s32);
            w = FloatVector.broadcast(S, a[a4 + ap]);
            s40 = w.fma(b0, s40);
            s41 = w.fma(b1, s41);
            s42 = w.fma(b2, s42);
            w = FloatVector.broadcast(S, a[a5 + ap]);
            s50 = w.fma(b0, s50);
            s51 = w.fma(b1, s51);
            s52 = w.fma(b2, s52);
            w = FloatVector.broadcast(S, a[a6 + ap]);
            s60 = w.fma(b0, s60);
            s61 = w.fma(b1, s61);
            s62 = w.fma(b2, s62);
            w = FloatVector.broadcast(S, a[a7 + ap]);
            s70 = w.fma(b0, s70);
            s71 = w.fma(b1, s71);
            s72 = w.fma(b2, s72);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + L);
        s42.intoArray(c, c4 + 2 * L);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + L);
        s52.intoArray(c, c5 + 2 * L);
        s60.intoArray(c, c6);
        s61.intoArray(c, c6 + L);
        s62.intoArray(c, c6 + 2 * L);
        s70.intoArray(c, c7);
        s71.intoArray(c, c7 + L);
        s72.intoArray(c, c7 + 2 * L);
    }

    /**
     * {@link #tile8x3} over a packed B panel (rows of {@code 3L}) and A along its unit stride: the
     * indices are the step times a constant plus a loop invariant, so C2 checks the bounds once
     * before the loop (see {@link #tile4x2u}). On the AMD EPYC (Zen 4) this runs as fast as
     * {@link #tile8x3}, whose 11 bounds checks per 24 FMAs fit beside its one 512-bit FMA per cycle;
     * a core with two 512-bit FMA units (Intel's server cores) issues the FMAs twice as fast, and
     * there the checks' compare-and-branch instructions compete with the FMAs for issue slots
     * and ports.
     */
    private static void tile8x3u(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow,
                                 float[] bp, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        final int c6 = c5 + ldc;
        final int c7 = c6 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s02 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s12 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 2 * L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s22 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 2 * L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s32 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 2 * L));
        FloatVector s40 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s41 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + L));
        FloatVector s42 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + 2 * L));
        FloatVector s50 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s51 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + L));
        FloatVector s52 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + 2 * L));
        FloatVector s60 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6));
        FloatVector s61 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + L));
        FloatVector s62 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + 2 * L));
        FloatVector s70 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7));
        FloatVector s71 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + L));
        FloatVector s72 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + 2 * L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        final int a4 = a3 + aRow;
        final int a5 = a4 + aRow;
        final int a6 = a5 + aRow;
        final int a7 = a6 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * (3 * L) + bn;
            final int ap = p;
            final FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            final FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            final FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            s02 = w.fma(b2, s02);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            s12 = w.fma(b2, s12);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            s22 = w.fma(b2, s22);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            s32 = w.fma(b2, s32);
            w = FloatVector.broadcast(S, a[a4 + ap]);
            s40 = w.fma(b0, s40);
            s41 = w.fma(b1, s41);
            s42 = w.fma(b2, s42);
            w = FloatVector.broadcast(S, a[a5 + ap]);
            s50 = w.fma(b0, s50);
            s51 = w.fma(b1, s51);
            s52 = w.fma(b2, s52);
            w = FloatVector.broadcast(S, a[a6 + ap]);
            s60 = w.fma(b0, s60);
            s61 = w.fma(b1, s61);
            s62 = w.fma(b2, s62);
            w = FloatVector.broadcast(S, a[a7 + ap]);
            s70 = w.fma(b0, s70);
            s71 = w.fma(b1, s71);
            s72 = w.fma(b2, s72);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + L);
        s42.intoArray(c, c4 + 2 * L);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + L);
        s52.intoArray(c, c5 + 2 * L);
        s60.intoArray(c, c6);
        s61.intoArray(c, c6 + L);
        s62.intoArray(c, c6 + 2 * L);
        s70.intoArray(c, c7);
        s71.intoArray(c, c7 + L);
        s72.intoArray(c, c7 + 2 * L);
    }

    /** {@link #tile8x3u} for A packed at steps of {@value #MC}: {@code A(m, p) = a[ab + m + p*MC]}. */
    private static void tile8x3p(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab,
                                 float[] bp, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        final int c6 = c5 + ldc;
        final int c7 = c6 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s02 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s12 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 2 * L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s22 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 2 * L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s32 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 2 * L));
        FloatVector s40 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s41 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + L));
        FloatVector s42 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4 + 2 * L));
        FloatVector s50 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s51 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + L));
        FloatVector s52 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5 + 2 * L));
        FloatVector s60 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6));
        FloatVector s61 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + L));
        FloatVector s62 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6 + 2 * L));
        FloatVector s70 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7));
        FloatVector s71 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + L));
        FloatVector s72 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7 + 2 * L));
        final int a0 = ab + m;
        final int a1 = a0 + 1;
        final int a2 = a0 + 2;
        final int a3 = a0 + 3;
        final int a4 = a0 + 4;
        final int a5 = a0 + 5;
        final int a6 = a0 + 6;
        final int a7 = a0 + 7;
        for (int p = p0; p < p1; p++) {
            final int bo = p * (3 * L) + bn;
            final int ap = p * MC;
            final FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            final FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            final FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            s02 = w.fma(b2, s02);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            s12 = w.fma(b2, s12);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            s22 = w.fma(b2, s22);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            s32 = w.fma(b2, s32);
            w = FloatVector.broadcast(S, a[a4 + ap]);
            s40 = w.fma(b0, s40);
            s41 = w.fma(b1, s41);
            s42 = w.fma(b2, s42);
            w = FloatVector.broadcast(S, a[a5 + ap]);
            s50 = w.fma(b0, s50);
            s51 = w.fma(b1, s51);
            s52 = w.fma(b2, s52);
            w = FloatVector.broadcast(S, a[a6 + ap]);
            s60 = w.fma(b0, s60);
            s61 = w.fma(b1, s61);
            s62 = w.fma(b2, s62);
            w = FloatVector.broadcast(S, a[a7 + ap]);
            s70 = w.fma(b0, s70);
            s71 = w.fma(b1, s71);
            s72 = w.fma(b2, s72);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + L);
        s42.intoArray(c, c4 + 2 * L);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + L);
        s52.intoArray(c, c5 + 2 * L);
        s60.intoArray(c, c6);
        s61.intoArray(c, c6 + L);
        s62.intoArray(c, c6 + 2 * L);
        s70.intoArray(c, c7);
        s71.intoArray(c, c7 + L);
        s72.intoArray(c, c7 + 2 * L);
    }

    /** Row remainder of {@link #tile8x3}: rows {@code m..m+3}. */
    private static void tile4x3(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        FloatVector s00 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s01 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s02 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        FloatVector s10 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s11 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + L));
        FloatVector s12 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1 + 2 * L));
        FloatVector s20 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s21 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + L));
        FloatVector s22 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2 + 2 * L));
        FloatVector s30 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s31 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + L));
        FloatVector s32 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3 + 2 * L));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final int ap = p * aCol;
            final FloatVector b0 = FloatVector.fromArray(S, b, bo);
            final FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            final FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector w = FloatVector.broadcast(S, a[a0 + ap]);
            s00 = w.fma(b0, s00);
            s01 = w.fma(b1, s01);
            s02 = w.fma(b2, s02);
            w = FloatVector.broadcast(S, a[a1 + ap]);
            s10 = w.fma(b0, s10);
            s11 = w.fma(b1, s11);
            s12 = w.fma(b2, s12);
            w = FloatVector.broadcast(S, a[a2 + ap]);
            s20 = w.fma(b0, s20);
            s21 = w.fma(b1, s21);
            s22 = w.fma(b2, s22);
            w = FloatVector.broadcast(S, a[a3 + ap]);
            s30 = w.fma(b0, s30);
            s31 = w.fma(b1, s31);
            s32 = w.fma(b2, s32);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + L);
        s02.intoArray(c, c0 + 2 * L);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + L);
        s12.intoArray(c, c1 + 2 * L);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + L);
        s22.intoArray(c, c2 + 2 * L);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + L);
        s32.intoArray(c, c3 + 2 * L);
    }

    /** Row remainder of {@link #tile8x3}: row {@code m}. */
    private static void tile1x3(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        FloatVector s0 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s1 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + L));
        FloatVector s2 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0 + 2 * L));
        final int a0 = ab + m * aRow;
        for (int p = p0; p < p1; p++) {
            final int bo = p * ldb + bn;
            final FloatVector w = FloatVector.broadcast(S, a[a0 + p * aCol]);
            s0 = w.fma(FloatVector.fromArray(S, b, bo), s0);
            s1 = w.fma(FloatVector.fromArray(S, b, bo + L), s1);
            s2 = w.fma(FloatVector.fromArray(S, b, bo + 2 * L), s2);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + L);
        s2.intoArray(c, c0 + 2 * L);
    }

    /** Column remainder: rows {@code m..m+7}, one vector at {@code n}. */
    private static void tile8x1(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        final int c4 = c3 + ldc;
        final int c5 = c4 + ldc;
        final int c6 = c5 + ldc;
        final int c7 = c6 + ldc;
        FloatVector s0 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s1 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s2 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s3 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        FloatVector s4 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 4]) : FloatVector.fromArray(S, c, c4));
        FloatVector s5 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 5]) : FloatVector.fromArray(S, c, c5));
        FloatVector s6 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 6]) : FloatVector.fromArray(S, c, c6));
        FloatVector s7 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 7]) : FloatVector.fromArray(S, c, c7));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        final int a4 = a3 + aRow;
        final int a5 = a4 + aRow;
        final int a6 = a5 + aRow;
        final int a7 = a6 + aRow;
        for (int p = p0; p < p1; p++) {
            final int ap = p * aCol;
            final FloatVector v = FloatVector.fromArray(S, b, p * ldb + bn);
            s0 = FloatVector.broadcast(S, a[a0 + ap]).fma(v, s0);
            s1 = FloatVector.broadcast(S, a[a1 + ap]).fma(v, s1);
            s2 = FloatVector.broadcast(S, a[a2 + ap]).fma(v, s2);
            s3 = FloatVector.broadcast(S, a[a3 + ap]).fma(v, s3);
            s4 = FloatVector.broadcast(S, a[a4 + ap]).fma(v, s4);
            s5 = FloatVector.broadcast(S, a[a5 + ap]).fma(v, s5);
            s6 = FloatVector.broadcast(S, a[a6 + ap]).fma(v, s6);
            s7 = FloatVector.broadcast(S, a[a7 + ap]).fma(v, s7);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c1);
        s2.intoArray(c, c2);
        s3.intoArray(c, c3);
        s4.intoArray(c, c4);
        s5.intoArray(c, c5);
        s6.intoArray(c, c6);
        s7.intoArray(c, c7);
    }

    /** Column and row remainder: rows {@code m..m+3}, one vector at {@code n}. */
    private static void tile4x1(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        final int c1 = c0 + ldc;
        final int c2 = c1 + ldc;
        final int c3 = c2 + ldc;
        FloatVector s0 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        FloatVector s1 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]) : FloatVector.fromArray(S, c, c1));
        FloatVector s2 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]) : FloatVector.fromArray(S, c, c2));
        FloatVector s3 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]) : FloatVector.fromArray(S, c, c3));
        final int a0 = ab + m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = p0; p < p1; p++) {
            final int ap = p * aCol;
            final FloatVector v = FloatVector.fromArray(S, b, p * ldb + bn);
            s0 = FloatVector.broadcast(S, a[a0 + ap]).fma(v, s0);
            s1 = FloatVector.broadcast(S, a[a1 + ap]).fma(v, s1);
            s2 = FloatVector.broadcast(S, a[a2 + ap]).fma(v, s2);
            s3 = FloatVector.broadcast(S, a[a3 + ap]).fma(v, s3);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c1);
        s2.intoArray(c, c2);
        s3.intoArray(c, c3);
    }

    /** Column and row remainder: row {@code m}, one vector at {@code n}. */
    private static void tile1x1(int m, int n, int bn, int p0, int p1, boolean first, float[] a, int ab, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        final int c0 = m * ldc + n;
        FloatVector s0 = (first ? FloatVector.broadcast(S, bias == null ? 0f : bias[m]) : FloatVector.fromArray(S, c, c0));
        final int a0 = ab + m * aRow;
        for (int p = p0; p < p1; p++) {
            s0 = FloatVector.broadcast(S, a[a0 + p * aCol]).fma(FloatVector.fromArray(S, b, p * ldb + bn), s0);
        }
        s0.intoArray(c, c0);
    }

    /**
     * A column range narrower than one vector. One vector starting at {@code n0} covers it: its
     * lanes past {@code n1} compute with whatever {@code B} holds there (inputs only, never written)
     * and are thrown away; the lanes inside are extracted and stored one by one (a masked store
     * would be far slower on JDK 17, and a full one would write outside the range). Steps whose
     * full-vector load would run past the end of {@code b} continue the same chain in scalar
     * {@link Math#fma}, lane by lane.
     */
    private static void gemmNarrow(boolean flush, int m0, int m1, int n0, int n1, int kDim, float[] a, int aRow, int aCol,
                                   float[] b, int ldb, float[] c, int ldc, float[] bias) {
        // Steps p whose load b[p*ldb + n0 .. + L) lies inside b: p <= (b.length - n0 - L) / ldb.
        final int room = b.length - n0 - L;
        final int pVec = room < 0 || ldb <= 0 ? 0 : (int) Math.min(kDim, (long) room / ldb + 1);
        int m = m0;
        for (; m + 4 <= m1; m += 4) {
            narrow4(flush, m, n0, n1, pVec, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
        }
        for (; m < m1; m++) {
            final int am = m * aRow;
            FloatVector s0 = FloatVector.broadcast(S, bias == null ? 0f : bias[m]);
            for (int p = 0; p < pVec; p++) {
                s0 = FloatVector.broadcast(S, a[am + p * aCol]).fma(FloatVector.fromArray(S, b, p * ldb + n0), s0);
            }
            finishNarrow(flush, s0, am, n0, n1, pVec, kDim, aCol, a, b, ldb, c, m * ldc);
        }
    }

    /** Four rows of {@link #gemmNarrow}: 4 chains of 4-cycle FMAs, enough to hide most latency. */
    private static void narrow4(boolean flush, int m, int n0, int n1, int pVec, int kDim, float[] a, int aRow, int aCol,
                                float[] b, int ldb, float[] c, int ldc, float[] bias) {
        FloatVector s0 = FloatVector.broadcast(S, bias == null ? 0f : bias[m]);
        FloatVector s1 = FloatVector.broadcast(S, bias == null ? 0f : bias[m + 1]);
        FloatVector s2 = FloatVector.broadcast(S, bias == null ? 0f : bias[m + 2]);
        FloatVector s3 = FloatVector.broadcast(S, bias == null ? 0f : bias[m + 3]);
        final int a0 = m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = 0; p < pVec; p++) {
            final int ap = p * aCol;
            final FloatVector v = FloatVector.fromArray(S, b, p * ldb + n0);
            s0 = FloatVector.broadcast(S, a[a0 + ap]).fma(v, s0);
            s1 = FloatVector.broadcast(S, a[a1 + ap]).fma(v, s1);
            s2 = FloatVector.broadcast(S, a[a2 + ap]).fma(v, s2);
            s3 = FloatVector.broadcast(S, a[a3 + ap]).fma(v, s3);
        }
        finishNarrow(flush, s0, a0, n0, n1, pVec, kDim, aCol, a, b, ldb, c, m * ldc);
        finishNarrow(flush, s1, a1, n0, n1, pVec, kDim, aCol, a, b, ldb, c, (m + 1) * ldc);
        finishNarrow(flush, s2, a2, n0, n1, pVec, kDim, aCol, a, b, ldb, c, (m + 2) * ldc);
        finishNarrow(flush, s3, a3, n0, n1, pVec, kDim, aCol, a, b, ldb, c, (m + 3) * ldc);
    }

    /**
     * Lanes {@code 0 .. n1-n0-1} of one row: the steps {@code [pVec, kDim)} of the chain in scalar,
     * then the store. {@code am} is the row's offset in {@code a}, {@code cm} in {@code c}.
     */
    private static void finishNarrow(boolean flush, FloatVector s, int am, int n0, int n1, int pVec, int kDim, int aCol,
                                     float[] a, float[] b, int ldb, float[] c, int cm) {
        for (int j = 0; j < n1 - n0; j++) {
            float acc = s.lane(j);
            for (int p = pVec; p < kDim; p++) {
                acc = Math.fma(a[am + p * aCol], b[p * ldb + n0 + j], acc);
            }
            c[cm + n0 + j] = flush ? Subnormals.flush(acc) : acc;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Element-wise functions. Whole vectors, then a scalar tail through MathF itself (an in-place
    // function cannot use the overlapping-vector trick: it would apply twice). The loops run to
    // from + loopBound(to - from) rather than testing j + L <= to: that canonical form lets C2 drop
    // the range checks (measured 0.15 -> 0.09 ns per element for tanhBackward).

    @Override
    public void tanhInPlace(float[] x, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            // MathF.tanh lane by lane, written out with a copy of exp(FloatVector) that drops its
            // special cases (below): both branches computed, the comparisons select. The two
            // copySigns of MathF (of 1 for |x| >= 9, of 1 - 2/(s+1) from 0.625 on) are one,
            // applied after selecting the magnitude; both magnitudes are positive, so copySign is
            // a plain OR of x's sign bit.
            final FloatVector v = FloatVector.fromArray(S, x, j);
            final FloatVector z = v.abs();
            final FloatVector one = FloatVector.broadcast(S, 1f);
            // 0.625 <= |x| < 9: 1 - 2 / (exp(2|x|) + 1); |x| >= 9: 1. Then the sign of x.
            // exp(2|x|) without exp's three special cases, which never decide a result here: 2|x| is
            // never below exp's underflow bound; above its overflow bound |x| >= 9 selects 1; a NaN
            // x selects the polynomial. So the bits are MathF's, with three blends fewer: 1.24 ->
            // 0.88 ns per element with AVX-512, 1.39 -> 1.09 with AVX2 (AMD EPYC Zen 4, JDK 17).
            final FloatVector zz = z.add(z);
            final FloatVector et = zz.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
            final FloatVector en = et.sub(MathF.ROUND_MAGIC);
            final IntVector eni = et.reinterpretAsInts().sub(0x4B400000);
            final FloatVector negN = en.neg();
            FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), zz);
            r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
            FloatVector ep = FloatVector.broadcast(S, MathF.E0);
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E1));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E2));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E3));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E4));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E5));
            final FloatVector ey = ep.fma(r.mul(r), r).add(1f);
            final FloatVector scale = eni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            final FloatVector s = ey.mul(scale);
            final FloatVector mag = one.sub(FloatVector.broadcast(S, 2f).div(s.add(one)))
                    .blend(one, z.compare(VectorOperators.GE, MathF.TANH_ONE));
            final FloatVector big = mag.reinterpretAsInts()
                    .or(v.reinterpretAsInts().and(0x80000000))
                    .reinterpretAsFloats();
            // |x| < 0.625 (and NaN): odd polynomial
            final FloatVector x2 = v.mul(v);
            FloatVector p = FloatVector.broadcast(S, MathF.T0);
            p = p.fma(x2, FloatVector.broadcast(S, MathF.T1));
            p = p.fma(x2, FloatVector.broadcast(S, MathF.T2));
            p = p.fma(x2, FloatVector.broadcast(S, MathF.T3));
            p = p.fma(x2, FloatVector.broadcast(S, MathF.T4));
            final FloatVector small = p.mul(x2).fma(v, v);
            small.blend(big, z.compare(VectorOperators.GE, MathF.TANH_SMALL)).intoArray(x, j);
        }
        for (; j < to; j++) {
            x[j] = MathF.tanh(x[j]);
        }
        if (flush) {
            flushRange(x, from, to);
        }
    }

    @Override
    public void sigmoidInPlace(float[] x, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            // MathF.sigmoid lane by lane, 1 / (1 + exp(-x)), exp written out: 1.45 ns per element
            // against 1.92 calling exp(FloatVector) (AMD EPYC Zen 4, JDK 17, AVX-512).
            final FloatVector one = FloatVector.broadcast(S, 1f);
            final FloatVector nx = FloatVector.fromArray(S, x, j).neg();
            final FloatVector et = nx.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
            final FloatVector en = et.sub(MathF.ROUND_MAGIC);
            final IntVector eni = et.reinterpretAsInts().sub(0x4B400000);
            final FloatVector negN = en.neg();
            FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), nx);
            r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
            FloatVector ep = FloatVector.broadcast(S, MathF.E0);
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E1));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E2));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E3));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E4));
            ep = ep.fma(r, FloatVector.broadcast(S, MathF.E5));
            final FloatVector ey = ep.fma(r.mul(r), r).add(1f);
            final FloatVector scale = eni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = ey.mul(scale);
            e = e.blend(Float.POSITIVE_INFINITY, nx.compare(VectorOperators.GT, MathF.EXP_HI));
            e = e.blend(0f, nx.compare(VectorOperators.LT, MathF.EXP_LO));
            final FloatVector en2 = e.blend(nx, nx.compare(VectorOperators.NE, nx));
            one.div(one.add(en2)).intoArray(x, j);
        }
        for (; j < to; j++) {
            x[j] = MathF.sigmoid(x[j]);
        }
        if (flush) {
            flushRange(x, from, to);
        }
    }

    @Override
    public void reluInPlace(float[] x, int from, int to) {
        final FloatVector zero = FloatVector.zero(S);
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector v = FloatVector.fromArray(S, x, j);
            // x > 0 ? x : +0 -- false for -0 and NaN, which therefore become +0.
            zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(x, j);
        }
        for (; j < to; j++) {
            x[j] = x[j] > 0f ? x[j] : 0f;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>NaN caveat (true of the scalar reference as well): for a NaN {@code a[j]}, the fma sees two
     * NaN operands differing in sign, {@code -a} and {@code a}; x86 returns the NaN of whichever
     * operand the JIT placed first, so the sign of the resulting NaN depends on the compilation
     * (the scalar reference itself returns {@code a}'s NaN interpreted and {@code -a}'s under C2).
     * Every non-NaN result is bit-exact.
     */
    @Override
    public void tanhBackward(float[] a, float[] g, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector av = FloatVector.fromArray(S, a, j);
            final FloatVector gv = FloatVector.fromArray(S, g, j);
            gv.mul(av.neg().fma(av, FloatVector.broadcast(S, 1f))).intoArray(g, j);
        }
        for (; j < to; j++) {
            g[j] = g[j] * Math.fma(-a[j], a[j], 1f);
        }
        if (flush) {
            flushRange(g, from, to);
        }
    }

    @Override
    public void sigmoidBackward(float[] a, float[] g, int from, int to) {
        final FloatVector one = FloatVector.broadcast(S, 1f);
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector av = FloatVector.fromArray(S, a, j);
            final FloatVector gv = FloatVector.fromArray(S, g, j);
            gv.mul(av.mul(one.sub(av))).intoArray(g, j);
        }
        for (; j < to; j++) {
            g[j] = g[j] * (a[j] * (1f - a[j]));
        }
        if (flush) {
            flushRange(g, from, to);
        }
    }

    @Override
    public void reluBackward(float[] a, float[] g, int from, int to) {
        final FloatVector zero = FloatVector.zero(S);
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector av = FloatVector.fromArray(S, a, j);
            final FloatVector gv = FloatVector.fromArray(S, g, j);
            zero.blend(gv, av.compare(VectorOperators.GT, 0f)).intoArray(g, j);
        }
        for (; j < to; j++) {
            g[j] = a[j] > 0f ? g[j] : 0f;
        }
    }


    // GELU. Each loop body computes MathF's function lane by lane with the same operations in the
    // same order: every branch of MathF is computed for every lane and the comparisons select (the
    // branches are disjoint, NaN failing every comparison but the last). The whole computation is
    // written out in the loop rather than in helpers returning vectors: a helper C2 declines to
    // inline boxes its vectors, and these bodies are large. Lanes that end up unselected may compute
    // with infinities or NaNs; nothing traps.

    @Override
    public void geluInPlace(float[] x, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector z = FloatVector.fromArray(S, x, j);
            final FloatVector t = z.abs();
            final FloatVector s = z.mul(z);
            // |z| < 0.5
            FloatVector p = FloatVector.broadcast(S, MathF.GS5);
            p = p.fma(s, FloatVector.broadcast(S, MathF.GS4));
            p = p.fma(s, FloatVector.broadcast(S, MathF.GS3));
            p = p.fma(s, FloatVector.broadcast(S, MathF.GS2));
            p = p.fma(s, FloatVector.broadcast(S, MathF.GS1));
            p = p.fma(s, FloatVector.broadcast(S, MathF.GS0));
            final FloatVector small = z.fma(z.mul(p), z.mul(0.5f)).reinterpretAsInts().and(0x7fffffff)
                    .or(z.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
            // e^(-z^2/2) = 2^n (1 + pr)
            final FloatVector hx = s.mul(-0.5f);
            final FloatVector tm = hx.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
            final FloatVector negN = tm.sub(MathF.ROUND_MAGIC).neg();
            final IntVector n = tm.reinterpretAsInts().sub(0x4B400000);
            FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), hx);
            r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
            r = z.fma(z, s.neg()).fma(FloatVector.broadcast(S, -0.5f), r);
            FloatVector e = FloatVector.broadcast(S, MathF.E0);
            e = e.fma(r, FloatVector.broadcast(S, MathF.E1));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E2));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E3));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E4));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E5));
            final FloatVector pr = e.fma(r.mul(r), r);
            // H(t): t < 2.5 in t - GA_C, else in 1/(1 + t) - GB_C
            final FloatVector va = t.sub(MathF.GA_C);
            FloatVector ha = FloatVector.broadcast(S, MathF.GA10);
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA9));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA8));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA7));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA6));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA5));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA4));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA3));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA2));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA1));
            ha = ha.fma(va, FloatVector.broadcast(S, MathF.GA0));
            final FloatVector one = FloatVector.broadcast(S, 1f);
            final FloatVector vb = one.div(t.add(one)).sub(MathF.GB_C);
            FloatVector hb = FloatVector.broadcast(S, MathF.GB7);
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB6));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB5));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB4));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB3));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB2));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB1));
            hb = hb.fma(vb, FloatVector.broadcast(S, MathF.GB0));
            final FloatVector h = ha.blend(hb, t.compare(VectorOperators.GE, MathF.GELU_MID));
            // 2^n = 2^n1 2^n2, n1 = n >> 1
            final IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
            final FloatVector w = pr.fma(h, h).mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            final FloatVector s2 = n.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            w.neg().fma(s2, z)
                    .blend(w.mul(s2).neg(), z.compare(VectorOperators.LT, 0f))
                    .blend(small, t.compare(VectorOperators.LT, MathF.GELU_SMALL))
                    .blend(z, z.compare(VectorOperators.GE, MathF.GELU_ONE))
                    .blend(-0f, z.compare(VectorOperators.LE, -MathF.GELU_ZERO))
                    .blend(z, z.compare(VectorOperators.NE, z))
                    .intoArray(x, j);
        }
        for (; j < to; j++) {
            x[j] = MathF.gelu(x[j]);
        }
        if (flush) {
            flushRange(x, from, to);
        }
    }

    @Override
    public void geluBackward(float[] zs, float[] g, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector z = FloatVector.fromArray(S, zs, j);
            final FloatVector t = z.abs();
            final FloatVector s = z.mul(z);
            // |z| < 0.25
            FloatVector p = FloatVector.broadcast(S, MathF.DS4);
            p = p.fma(s, FloatVector.broadcast(S, MathF.DS3));
            p = p.fma(s, FloatVector.broadcast(S, MathF.DS2));
            p = p.fma(s, FloatVector.broadcast(S, MathF.DS1));
            p = p.fma(s, FloatVector.broadcast(S, MathF.DS0));
            final FloatVector half = FloatVector.broadcast(S, 0.5f);
            final FloatVector small = z.fma(p, half);
            // e^(-z^2/2) = 2^n (1 + pr)
            final FloatVector hx = s.mul(-0.5f);
            final FloatVector tm = hx.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
            final FloatVector negN = tm.sub(MathF.ROUND_MAGIC).neg();
            final IntVector n = tm.reinterpretAsInts().sub(0x4B400000);
            FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), hx);
            r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
            r = z.fma(z, s.neg()).fma(FloatVector.broadcast(S, -0.5f), r);
            FloatVector e = FloatVector.broadcast(S, MathF.E0);
            e = e.fma(r, FloatVector.broadcast(S, MathF.E1));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E2));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E3));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E4));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E5));
            final FloatVector pr = e.fma(r.mul(r), r);
            // K(t): t < 2.5 in t - DA_C, else in 1/(1 + t) - DB_C
            final FloatVector va = t.sub(MathF.DA_C);
            FloatVector ka = FloatVector.broadcast(S, MathF.DA10);
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA9));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA8));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA7));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA6));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA5));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA4));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA3));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA2));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA1));
            ka = ka.fma(va, FloatVector.broadcast(S, MathF.DA0));
            final FloatVector one = FloatVector.broadcast(S, 1f);
            final FloatVector vb = one.div(t.add(one)).sub(MathF.DB_C);
            FloatVector kb = FloatVector.broadcast(S, MathF.DB6);
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB5));
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB4));
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB3));
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB2));
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB1));
            kb = kb.fma(vb, FloatVector.broadcast(S, MathF.DB0));
            final FloatVector k = ka.blend(kb, t.compare(VectorOperators.GE, MathF.GELU_MID));
            // D = (t - t0) K
            final FloatVector dh = t.sub(MathF.T0_HI);
            final FloatVector dl = t.sub(dh).sub(MathF.T0_HI).sub(MathF.T0_LO);
            final FloatVector d = dh.fma(k, dl.mul(k));
            final IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
            final FloatVector w = pr.fma(d, d).mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            final FloatVector s2 = n.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            final FloatVector df = w.fma(s2, one)
                    .blend(w.mul(s2).neg(), z.compare(VectorOperators.LT, 0f))
                    .blend(small, t.compare(VectorOperators.LT, MathF.GELU_D_SMALL))
                    .blend(one, z.compare(VectorOperators.GE, MathF.GELU_ONE))
                    .blend(-0f, z.compare(VectorOperators.LE, -MathF.GELU_ZERO))
                    .blend(z, z.compare(VectorOperators.NE, z));
            FloatVector.fromArray(S, g, j).mul(df).intoArray(g, j);
        }
        for (; j < to; j++) {
            g[j] = g[j] * MathF.geluDerivative(zs[j]);
        }
        if (flush) {
            flushRange(g, from, to);
        }
    }

    @Override
    public void geluSecondTerm(float[] zs, float[] rz, float[] g, float[] rDelta, int from, int to) {
        final int vectorEnd = from + S.loopBound(to - from);
        int j = from;
        for (; j < vectorEnd; j += L) {
            final FloatVector z = FloatVector.fromArray(S, zs, j);
            final FloatVector s = z.mul(z);
            // e^(-z^2/2) = 2^n (1 + pr)
            final FloatVector hx = s.mul(-0.5f);
            final FloatVector tm = hx.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
            final FloatVector negN = tm.sub(MathF.ROUND_MAGIC).neg();
            final IntVector n = tm.reinterpretAsInts().sub(0x4B400000);
            FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), hx);
            r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
            r = z.fma(z, s.neg()).fma(FloatVector.broadcast(S, -0.5f), r);
            FloatVector e = FloatVector.broadcast(S, MathF.E0);
            e = e.fma(r, FloatVector.broadcast(S, MathF.E1));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E2));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E3));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E4));
            e = e.fma(r, FloatVector.broadcast(S, MathF.E5));
            final FloatVector pr = e.fma(r.mul(r), r);
            // (2 - z^2) / sqrt(2 pi) e^(-z^2/2)
            final FloatVector q = z.neg().fma(z, FloatVector.broadcast(S, 2f));
            final FloatVector qc = q.fma(FloatVector.broadcast(S, MathF.INV_SQRT_2PI_HI), q.mul(MathF.INV_SQRT_2PI_LO));
            final IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
            final FloatVector f2 = pr.fma(qc, qc)
                    .mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(n.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .blend(-0f, z.abs().compare(VectorOperators.GE, MathF.GELU_ZERO))
                    .blend(z, z.compare(VectorOperators.NE, z));
            final FloatVector gv = FloatVector.fromArray(S, g, j);
            final FloatVector rzv = FloatVector.fromArray(S, rz, j);
            FloatVector.fromArray(S, rDelta, j).add(gv.mul(f2).mul(rzv)).intoArray(rDelta, j);
        }
        for (; j < to; j++) {
            rDelta[j] = rDelta[j] + (g[j] * MathF.geluSecondDerivative(zs[j])) * rz[j];
        }
        if (flush) {
            flushRange(rDelta, from, to);
        }
    }

    /**
     * {@link MathF#exp} lane by lane, the same operations in the same order. The special cases,
     * tested one after the other in MathF, are disjoint (NaN fails both comparisons), so they
     * become three blends over the value computed for every lane. The kernels write this body out
     * in their loops, faster than calling it ({@code tanhInPlace} without the blends, which never
     * decide a tanh); it stays for the tests, which check it against MathF.
     */
    static FloatVector exp(FloatVector x) {
        final FloatVector t = x.fma(MathF.LOG2E, MathF.ROUND_MAGIC);
        final FloatVector n = t.sub(MathF.ROUND_MAGIC);
        final IntVector ni = t.reinterpretAsInts().sub(0x4B400000);
        final FloatVector negN = n.neg();
        FloatVector r = negN.fma(FloatVector.broadcast(S, MathF.LN2_HI), x);
        r = negN.fma(FloatVector.broadcast(S, MathF.LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, MathF.E0);
        p = p.fma(r, FloatVector.broadcast(S, MathF.E1));
        p = p.fma(r, FloatVector.broadcast(S, MathF.E2));
        p = p.fma(r, FloatVector.broadcast(S, MathF.E3));
        p = p.fma(r, FloatVector.broadcast(S, MathF.E4));
        p = p.fma(r, FloatVector.broadcast(S, MathF.E5));
        final FloatVector y = p.fma(r.mul(r), r).add(1f);
        final FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector e = y.mul(scale);
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, MathF.EXP_HI));
        e = e.blend(0f, x.compare(VectorOperators.LT, MathF.EXP_LO));
        return e.blend(x, x.compare(VectorOperators.NE, x));
    }
}
