package dev.checkprop.kernel;

import static dev.checkprop.kernel.KernelTestData.SENTINEL;
import static dev.checkprop.kernel.KernelTestData.SIZES;
import static dev.checkprop.kernel.KernelTestData.bits;
import static dev.checkprop.kernel.KernelTestData.filled;
import static dev.checkprop.kernel.KernelTestData.mixed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three matrix products of {@link VectorKernels} and of {@link ScalarKernels} give exactly the
 * bits of {@link ChainReference} (the documented chains, written as plain loops) over the whole
 * output array: inside the requested range the same values, outside it the sentinel the output
 * was prefilled with.
 */
class ProductBitExactnessTest {

    /**
     * One way of running the products: subnormals flushed or kept, and the vector path's wide
     * (8 x 3) or narrow (4 x 2) tile set, both on every machine.
     */
    record Variant(String name, DenseKernels reference, DenseKernels scalar, DenseKernels vector) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        for (boolean flush : new boolean[] {true, false}) {
            for (boolean wide : new boolean[] {true, false}) {
                v.add(new Variant((flush ? "flush" : "strict") + (wide ? " wide" : " narrow"),
                        ChainReference.INSTANCE.withSubnormals(flush), ScalarKernels.INSTANCE.withSubnormals(flush),
                        VectorKernels.of(wide, flush)));
            }
        }
        return v;
    }

    /** A shape and, for the product under test, the sub-range of its range dimension. */
    private record Case(int nOut, int nIn, int batch, int lo, int hi) {
        @Override
        public String toString() {
            return "nOut=" + nOut + " nIn=" + nIn + " batch=" + batch + " range=[" + lo + "," + hi + ")";
        }
    }

    /**
     * Every size as every dimension at least once, the other dimensions random; for each shape the
     * full range, a random unaligned sub-range, a one-element range and an empty one.
     *
     * @param rangeOverBatch true when the range runs over the batch (forward, backwardInput), false
     *                       when it runs over the output rows (weightGradient)
     */
    private static List<Case> cases(long seed, boolean rangeOverBatch) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<int[]> shapes = new ArrayList<>();
        for (int dim = 0; dim < 3; dim++) {
            for (int s : SIZES) {
                int[] shape = {pick(rnd), pick(rnd), pick(rnd)};
                shape[dim] = s;
                shapes.add(shape);
            }
        }
        for (int t = 0; t < 40; t++) {
            shapes.add(new int[] {pick(rnd), pick(rnd), pick(rnd)});
        }
        // Several cache blocks of the reduction (256 steps each) and exact multiples of the tiles.
        shapes.add(new int[] {24, 600, 48});
        shapes.add(new int[] {24, 48, 600});
        shapes.add(new int[] {600, 24, 48});
        shapes.add(new int[] {13, 513, 35});
        // Strides of 512 floats and more: the operands are packed into panels, in row blocks of 192.
        shapes.add(new int[] {200, 520, 530});
        shapes.add(new int[] {97, 512, 513});
        shapes.add(new int[] {400, 600, 40});
        // Empty reduction: the output is the bias (forward) or zero.
        shapes.add(new int[] {5, 0, 33});
        shapes.add(new int[] {33, 5, 0});
        shapes.add(new int[] {0, 5, 33});
        List<Case> cases = new ArrayList<>();
        for (int[] sh : shapes) {
            int extent = rangeOverBatch ? sh[2] : sh[0];
            cases.add(new Case(sh[0], sh[1], sh[2], 0, extent));
            int lo = rnd.nextInt(extent + 1);
            int hi = lo + rnd.nextInt(extent - lo + 1);
            cases.add(new Case(sh[0], sh[1], sh[2], lo, hi));
            if (extent > 2) {
                int one = rnd.nextInt(extent);
                cases.add(new Case(sh[0], sh[1], sh[2], one, one + 1));
                // at least one vector wide, not aligned at either end
                if (extent > 20) {
                    int a = 1 + rnd.nextInt(3);
                    cases.add(new Case(sh[0], sh[1], sh[2], a, extent - 1 - rnd.nextInt(2)));
                }
            }
            cases.add(new Case(sh[0], sh[1], sh[2], extent / 2, extent / 2));
        }
        return cases;
    }

    private static int pick(SplittableRandom rnd) {
        return SIZES[rnd.nextInt(SIZES.length)];
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void forwardIsBitExact(Variant v) {
        SplittableRandom rnd = new SplittableRandom(11);
        for (Case c : cases(1, true)) {
            float[] w = mixed(rnd, c.nOut * c.nIn);
            float[] b = mixed(rnd, c.nOut);
            float[] a = mixed(rnd, c.nIn * c.batch);
            float[] zs = filled(c.nOut * c.batch, SENTINEL);
            float[] zv = filled(c.nOut * c.batch, SENTINEL);
            float[] zr = filled(c.nOut * c.batch, SENTINEL);
            v.reference().forward(c.nOut, c.nIn, c.batch, w, b, a, zr, c.lo, c.hi);
            v.scalar().forward(c.nOut, c.nIn, c.batch, w, b, a, zs, c.lo, c.hi);
            v.vector().forward(c.nOut, c.nIn, c.batch, w, b, a, zv, c.lo, c.hi);
            assertColumnsOnly(zr, c.nOut, c.batch, c.lo, c.hi, c);
            assertArrayEquals(bits(zr), bits(zs), () -> "scalar forward " + c);
            assertArrayEquals(bits(zr), bits(zv), () -> "vector forward " + c);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void backwardInputIsBitExact(Variant v) {
        SplittableRandom rnd = new SplittableRandom(12);
        for (Case c : cases(2, true)) {
            float[] w = mixed(rnd, c.nOut * c.nIn);
            float[] g = mixed(rnd, c.nOut * c.batch);
            float[] gs = filled(c.nIn * c.batch, SENTINEL);
            float[] gv = filled(c.nIn * c.batch, SENTINEL);
            float[] gr = filled(c.nIn * c.batch, SENTINEL);
            v.reference().backwardInput(c.nOut, c.nIn, c.batch, w, g, gr, c.lo, c.hi);
            v.scalar().backwardInput(c.nOut, c.nIn, c.batch, w, g, gs, c.lo, c.hi);
            v.vector().backwardInput(c.nOut, c.nIn, c.batch, w, g, gv, c.lo, c.hi);
            assertColumnsOnly(gr, c.nIn, c.batch, c.lo, c.hi, c);
            assertArrayEquals(bits(gr), bits(gs), () -> "scalar backwardInput " + c);
            assertArrayEquals(bits(gr), bits(gv), () -> "vector backwardInput " + c);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void weightGradientIsBitExact(Variant v) {
        SplittableRandom rnd = new SplittableRandom(13);
        for (Case c : cases(3, false)) {
            float[] g = mixed(rnd, c.nOut * c.batch);
            float[] aRows = mixed(rnd, c.batch * c.nIn);
            float[] ds = filled(c.nOut * c.nIn, SENTINEL);
            float[] dv = filled(c.nOut * c.nIn, SENTINEL);
            float[] dr = filled(c.nOut * c.nIn, SENTINEL);
            v.reference().weightGradient(c.nOut, c.nIn, c.batch, g, aRows, dr, c.lo, c.hi);
            v.scalar().weightGradient(c.nOut, c.nIn, c.batch, g, aRows, ds, c.lo, c.hi);
            v.vector().weightGradient(c.nOut, c.nIn, c.batch, g, aRows, dv, c.lo, c.hi);
            // rows lo..hi of [nOut, nIn]: whole rows, i.e. the flat range [lo*nIn, hi*nIn)
            assertColumnsOnly(dr, 1, c.nOut * c.nIn, c.lo * c.nIn, c.hi * c.nIn, c);
            assertArrayEquals(bits(dr), bits(ds), () -> "scalar weightGradient " + c);
            assertArrayEquals(bits(dr), bits(dv), () -> "vector weightGradient " + c);
        }
    }

    /**
     * Overflowing products: infinities of both signs and the NaNs of {@code inf - inf} run through
     * the chains; the vector path still gives the scalar bits (every NaN there is the one the
     * hardware generates, so no payload depends on operand order).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void overflowAndInfinitiesAreBitExact(Variant v) {
        SplittableRandom rnd = new SplittableRandom(14);
        int nOut = 19;
        int nIn = 37;
        int batch = 50;
        for (int t = 0; t < 20; t++) {
            float[] w = mixed(rnd, nOut * nIn);
            float[] a = mixed(rnd, nIn * batch);
            float[] g = mixed(rnd, nOut * batch);
            for (float[] x : new float[][] {w, a, g}) {
                for (int j = 0; j < x.length; j++) {
                    int kind = rnd.nextInt(40);
                    if (kind == 0) {
                        x[j] = rnd.nextBoolean() ? 3e25f : -3e25f;
                    } else if (kind == 1) {
                        x[j] = rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                    }
                }
            }
            float[] b = mixed(rnd, nOut);
            float[] zs = filled(nOut * batch, SENTINEL);
            float[] zv = filled(nOut * batch, SENTINEL);
            v.scalar().forward(nOut, nIn, batch, w, b, a, zs, 3, 47);
            v.vector().forward(nOut, nIn, batch, w, b, a, zv, 3, 47);
            assertArrayEquals(bits(zs), bits(zv), "forward with overflow");
            float[] gs = filled(nIn * batch, SENTINEL);
            float[] gv = filled(nIn * batch, SENTINEL);
            v.scalar().backwardInput(nOut, nIn, batch, w, g, gs, 0, batch);
            v.vector().backwardInput(nOut, nIn, batch, w, g, gv, 0, batch);
            assertArrayEquals(bits(gs), bits(gv), "backwardInput with overflow");
            float[] aRows = new float[batch * nIn];
            DenseKernels.transpose(nIn, batch, a, aRows);
            float[] ds = filled(nOut * nIn, SENTINEL);
            float[] dv = filled(nOut * nIn, SENTINEL);
            v.scalar().weightGradient(nOut, nIn, batch, g, aRows, ds, 2, 17);
            v.vector().weightGradient(nOut, nIn, batch, g, aRows, dv, 2, 17);
            assertArrayEquals(bits(ds), bits(dv), "weightGradient with overflow");
        }
    }

    /**
     * Splitting the range into pieces (as threads will) gives the same bits as one call, for every
     * cut: the vector path's choice of tiles and tails per piece never shows in the result.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void splitRangesGiveTheSameBits(Variant v) {
        SplittableRandom rnd = new SplittableRandom(15);
        int nOut = 41;
        int nIn = 70;
        int batch = 100;
        float[] w = mixed(rnd, nOut * nIn);
        float[] b = mixed(rnd, nOut);
        float[] a = mixed(rnd, nIn * batch);
        float[] whole = new float[nOut * batch];
        v.vector().forward(nOut, nIn, batch, w, b, a, whole, 0, batch);
        float[] g = mixed(rnd, nOut * batch);
        float[] aRows = mixed(rnd, batch * nIn);
        float[] dwWhole = new float[nOut * nIn];
        v.vector().weightGradient(nOut, nIn, batch, g, aRows, dwWhole, 0, nOut);
        for (int cut = 0; cut <= batch; cut += 3) {
            float[] z = filled(nOut * batch, SENTINEL);
            v.vector().forward(nOut, nIn, batch, w, b, a, z, 0, cut);
            v.vector().forward(nOut, nIn, batch, w, b, a, z, cut, batch);
            assertArrayEquals(bits(whole), bits(z), "forward split at " + cut);
        }
        for (int cut = 0; cut <= nOut; cut++) {
            float[] dw = filled(nOut * nIn, SENTINEL);
            v.vector().weightGradient(nOut, nIn, batch, g, aRows, dw, 0, cut);
            v.vector().weightGradient(nOut, nIn, batch, g, aRows, dw, cut, nOut);
            assertArrayEquals(bits(dwWhole), bits(dw), "weightGradient split at " + cut);
        }
    }

    /**
     * Rectangles: a range of output rows times a range of batch columns, as a split by rows hands
     * each thread. Batches of exactly four vectors take the 6 x 4 tile (with its row remainders),
     * others the 8 x 3 family; the rows outside the range and the columns outside it stay untouched.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void rowAndColumnRangesAreBitExact(Variant v) {
        SplittableRandom rnd = new SplittableRandom(16);
        int lanes = vectorLanes();
        int[] batches = {4 * lanes, 4 * lanes + 3, 3 * lanes, 2 * lanes + 1, lanes - 1, 8 * lanes};
        int[] rowCounts = {1, 5, 6, 7, 12, 13, 23, 24, 41, 128};
        for (int batch : batches) {
            for (int rows : rowCounts) {
                int nOut = rows + 1 + rnd.nextInt(9);
                int nIn = 1 + rnd.nextInt(300);
                int o0 = rnd.nextInt(nOut - rows + 1);
                int i0 = rnd.nextInt(3);
                int i1 = batch - rnd.nextInt(2);
                float[] w = mixed(rnd, nOut * nIn);
                float[] b = mixed(rnd, nOut);
                float[] a = mixed(rnd, nIn * batch);
                float[] zs = filled(nOut * batch, SENTINEL);
                float[] zv = filled(nOut * batch, SENTINEL);
                float[] zr = filled(nOut * batch, SENTINEL);
                v.reference().forward(nOut, nIn, batch, w, b, a, zr, o0, o0 + rows, i0, i1);
                v.scalar().forward(nOut, nIn, batch, w, b, a, zs, o0, o0 + rows, i0, i1);
                v.vector().forward(nOut, nIn, batch, w, b, a, zv, o0, o0 + rows, i0, i1);
                assertRectangleOnly(zr, batch, o0, o0 + rows, i0, i1);
                String what = "nOut=" + nOut + " nIn=" + nIn + " batch=" + batch + " rows [" + o0 + ","
                        + (o0 + rows) + ") columns [" + i0 + "," + i1 + ")";
                assertArrayEquals(bits(zr), bits(zs), () -> "scalar forward " + what);
                assertArrayEquals(bits(zr), bits(zv), () -> "vector forward " + what);
                // backwardInput: the rows are input units k; swap the roles of nOut and nIn.
                float[] g = mixed(rnd, nIn * batch);
                float[] gs = filled(nOut * batch, SENTINEL);
                float[] gv = filled(nOut * batch, SENTINEL);
                float[] gr = filled(nOut * batch, SENTINEL);
                v.reference().backwardInput(nIn, nOut, batch, mixed(new SplittableRandom(nIn), nIn * nOut), g, gr,
                        o0, o0 + rows, i0, i1);
                v.scalar().backwardInput(nIn, nOut, batch, mixed(new SplittableRandom(nIn), nIn * nOut), g, gs,
                        o0, o0 + rows, i0, i1);
                v.vector().backwardInput(nIn, nOut, batch, mixed(new SplittableRandom(nIn), nIn * nOut), g, gv,
                        o0, o0 + rows, i0, i1);
                assertRectangleOnly(gr, batch, o0, o0 + rows, i0, i1);
                assertArrayEquals(bits(gr), bits(gs), () -> "scalar backwardInput " + what);
                assertArrayEquals(bits(gr), bits(gv), () -> "vector backwardInput " + what);
            }
        }
    }

    private static int vectorLanes() {
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }

    /** The reference wrote exactly rows r0..r1 x columns c0..c1 of a {@code [*, cols]} buffer. */
    private static void assertRectangleOnly(float[] out, int cols, int r0, int r1, int c0, int c1) {
        for (int j = 0; j < out.length; j++) {
            int r = j / cols;
            int col = j % cols;
            boolean inside = r >= r0 && r < r1 && col >= c0 && col < c1;
            boolean untouched = Float.floatToRawIntBits(out[j]) == Float.floatToRawIntBits(SENTINEL);
            assertEquals(!inside, untouched, "element [" + r + ", " + col + "]");
        }
    }

    /**
     * The reference itself wrote inside columns {@code lo..hi} of a {@code [rows, cols]} buffer only
     * (so that comparing whole arrays also proves the vector path kept out of the rest).
     */
    private static void assertColumnsOnly(float[] out, int rows, int cols, int lo, int hi, Case c) {
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                boolean inside = col >= lo && col < hi;
                int bitsAt = Float.floatToRawIntBits(out[r * cols + col]);
                if (!inside) {
                    assertEquals(Float.floatToRawIntBits(SENTINEL), bitsAt, () -> "reference wrote outside " + c);
                }
            }
        }
        int written = 0;
        for (float v : out) {
            if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(SENTINEL)) {
                written++;
            }
        }
        // Every element inside the range was written (a result equal to the sentinel is impossible:
        // no kernel creates that payload).
        assertEquals(rows * (hi - lo), written, () -> "elements written, " + c);
    }
}
