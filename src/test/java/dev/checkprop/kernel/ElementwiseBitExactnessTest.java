package dev.checkprop.kernel;

import static dev.checkprop.kernel.KernelTestData.SENTINEL;
import static dev.checkprop.kernel.KernelTestData.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The nine element-wise kernels of {@link VectorKernels} (and its vector {@code exp}) give exactly
 * the bits of {@link ScalarKernels} / {@link MathF}: on random data of several scales and on every
 * special value and branch threshold of MathF, each placed in every lane position, over ranges
 * whose lengths and starts are not multiples of the vector width (so the scalar tail runs too).
 * The GELU kernels are checked with both tile sets as well (the element-wise code does not depend
 * on them; the parameter makes sure of it).
 */
class ElementwiseBitExactnessTest {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Special values and both neighbours of every threshold MathF branches on. */
    static float[] specials() {
        List<Float> v = new ArrayList<>();
        float[] base = {
            0f, Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, 1e-20f, 1e-10f, 1e-4f, 0.1f, 0.5f, 1f, 2f, 10f,
            20f, 50f, 86.5f, 87f, 87.0001f, 87.33654f, 87.5f, 88f, 88.0001f, 88.5f, 88.72283f, 88.7229f, 89f,
            100f, 104f, 1e10f, 1e30f, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
            MathF.TANH_SMALL, MathF.TANH_ONE, MathF.TANH_SMALL / 2, MathF.TANH_ONE / 2, 44f, 43.5f, 44.5f,
            0.3125f, 4.5f, 1.0f / 3, (float) Math.log(2), 0x1.0p-126f * 3, 0x1.fffffep-127f,
            // GELU's switches, its zeros (of gelu' and gelu''), centres and underflows
            MathF.GELU_SMALL, MathF.GELU_D_SMALL, MathF.GELU_MID, MathF.GELU_ONE, MathF.GELU_ZERO, 1.5f,
            MathF.T0_HI, (float) Math.sqrt(2), MathF.GA_C, MathF.DA_C, 13.2f, 14.38f, 14.6f, 14.9f, 1e-19f,
        };
        for (float b : base) {
            for (float x : new float[] {b, -b}) {
                v.add(x);
                v.add(Math.nextUp(x));
                v.add(Math.nextDown(x));
                v.add(Math.nextUp(Math.nextUp(x)));
                v.add(Math.nextDown(Math.nextDown(x)));
            }
        }
        // NaNs: canonical, negative, signalling, with payloads.
        for (int nanBits : new int[] {0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FC0BEEF, 0x7FA12345,
                                      0xFFFFFFFF, 0x7FFFFFFF}) {
            v.add(Float.intBitsToFloat(nanBits));
        }
        float[] out = new float[v.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = v.get(j);
        }
        return out;
    }

    /** Random values at several scales, plus the specials repeated at every offset modulo 16. */
    private static List<float[]> inputs() {
        List<float[]> in = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(21);
        for (double scale : new double[] {0.5, 1, 3, 10, 30, 100, 1000}) {
            float[] x = new float[4099];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
            }
            in.add(x);
        }
        float[] mixed = KernelTestData.mixed(rnd, 4099);
        in.add(mixed);
        float[] sp = specials();
        for (int shift = 0; shift < 17; shift++) {
            float[] x = new float[sp.length + shift];
            Arrays.fill(x, 0.75f);
            System.arraycopy(sp, 0, x, shift, sp.length);
            in.add(x);
        }
        return in;
    }

    private interface Unary {
        void apply(DenseKernels k, float[] x, int from, int to);
    }

    private interface Binary {
        void apply(DenseKernels k, float[] a, float[] g, int from, int to);
    }

    private static void checkUnary(String name, Unary f, boolean flush) {
        final DenseKernels SCALAR = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels VECTOR = VectorKernels.INSTANCE.withSubnormals(flush);
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        for (float[] x : inputs()) {
            for (int t = 0; t < 4; t++) {
                // whole array, then unaligned sub-ranges (the head and tail are left alone)
                int from = t == 0 ? 0 : rnd.nextInt(Math.min(20, x.length));
                int to = t == 0 ? x.length : Math.max(from, x.length - rnd.nextInt(Math.min(20, x.length)));
                float[] xs = padded(x);
                float[] xv = padded(x);
                f.apply(SCALAR, xs, from + 1, to + 1);
                f.apply(VECTOR, xv, from + 1, to + 1);
                assertUntouchedOutside(xs, from + 1, to + 1, x);
                final int ff = from;
                final int tt = to;
                assertArrayEquals(bits(xs), bits(xv), () -> name + " on [" + ff + "," + tt + ") of " + x.length);
            }
        }
    }

    /**
     * @param nanSignFree where {@code a} is NaN, require only that both results are NaN. For
     *     tanhBackward, {@code fma(-a, a, 1)} with NaN {@code a} has two NaN operands that differ in
     *     sign; x86 returns the NaN of the instruction's first source operand, and which operand that
     *     is depends on the JIT's register allocation: the scalar reference itself returns {@code a}'s
     *     NaN when interpreted and {@code -a}'s once compiled by C2. No implementation can match that
     *     bit for bit, so only the NaN-ness is compared there (every other element bit for bit).
     */
    private static void checkBinary(String name, Binary f, boolean nanSignFree, boolean flush) {
        final DenseKernels SCALAR = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels VECTOR = VectorKernels.INSTANCE.withSubnormals(flush);
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        for (float[] a : inputs()) {
            float[] g = KernelTestData.mixed(rnd, a.length);
            // the backward functions see activations in practice: also use f(a) as a
            for (float[] act : new float[][] {a, mapped(a, MathF::tanh), mapped(a, MathF::sigmoid)}) {
                int from = rnd.nextInt(Math.min(20, a.length));
                int to = Math.max(from, a.length - rnd.nextInt(Math.min(20, a.length)));
                float[] ap = padded(act);
                float[] gs = padded(g);
                float[] gv = padded(g);
                f.apply(SCALAR, ap, gs, from + 1, to + 1);
                f.apply(VECTOR, ap, gv, from + 1, to + 1);
                assertArrayEquals(bits(padded(act)), bits(ap), name + " modified a");
                assertUntouchedOutside(gs, from + 1, to + 1, g);
                if (nanSignFree) {
                    canonicalizeWhereNaN(ap, gs, from + 1, to + 1);
                    canonicalizeWhereNaN(ap, gv, from + 1, to + 1);
                }
                assertArrayEquals(bits(gs), bits(gv), () -> name + " on [" + from + "," + to + ")");
            }
        }
    }

    /** Replaces the result by the canonical NaN where {@code a} is NaN, after checking it is a NaN there. */
    private static void canonicalizeWhereNaN(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            if (Float.isNaN(a[j]) && Float.isNaN(g[j])) {
                g[j] = Float.NaN;
            }
        }
    }

    private interface FloatOp {
        float apply(float x);
    }

    private static float[] mapped(float[] x, FloatOp f) {
        float[] y = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            y[j] = f.apply(x[j]);
        }
        return y;
    }

    /** The array with one sentinel element before and after it. */
    private static float[] padded(float[] x) {
        float[] p = new float[x.length + 2];
        p[0] = SENTINEL;
        p[p.length - 1] = SENTINEL;
        System.arraycopy(x, 0, p, 1, x.length);
        return p;
    }

    private static void assertUntouchedOutside(float[] p, int from, int to, float[] original) {
        int[] pb = bits(p);
        int[] ob = bits(padded(original));
        for (int j = 0; j < p.length; j++) {
            if (j < from || j >= to) {
                assertEquals(ob[j], pb[j], "reference wrote outside its range at " + j);
            }
        }
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void tanhInPlaceIsBitExact(boolean flush) {
        checkUnary("tanh", DenseKernels::tanhInPlace, flush);
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void sigmoidInPlaceIsBitExact(boolean flush) {
        checkUnary("sigmoid", DenseKernels::sigmoidInPlace, flush);
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void reluInPlaceIsBitExact(boolean flush) {
        checkUnary("relu", DenseKernels::reluInPlace, flush);
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void tanhBackwardIsBitExact(boolean flush) {
        checkBinary("tanhBackward", DenseKernels::tanhBackward, true, flush);
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void sigmoidBackwardIsBitExact(boolean flush) {
        checkBinary("sigmoidBackward", DenseKernels::sigmoidBackward, false, flush);
    }

    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void reluBackwardIsBitExact(boolean flush) {
        checkBinary("reluBackward", DenseKernels::reluBackward, false, flush);
    }

    private interface Quaternary {
        void apply(DenseKernels k, float[] z, float[] rz, float[] g, float[] rDelta, int from, int to);
    }

    private static DenseKernels vector(boolean wide, boolean flush) {
        return VectorKernels.of(wide, flush);
    }

    @ParameterizedTest(name = "wide {0}, flush {1}")
    @CsvSource({"true, true", "true, false", "false, true", "false, false"})
    void geluInPlaceIsBitExact(boolean wide, boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels vector = vector(wide, flush);
        SplittableRandom rnd = new SplittableRandom(31);
        for (float[] x : geluInputs()) {
            for (int t = 0; t < 4; t++) {
                int from = t == 0 ? 0 : rnd.nextInt(Math.min(20, x.length));
                int to = t == 0 ? x.length : Math.max(from, x.length - rnd.nextInt(Math.min(20, x.length)));
                float[] xs = padded(x);
                float[] xv = padded(x);
                scalar.geluInPlace(xs, from + 1, to + 1);
                vector.geluInPlace(xv, from + 1, to + 1);
                assertUntouchedOutside(xs, from + 1, to + 1, x);
                assertUntouchedOutside(xv, from + 1, to + 1, x);
                final int ff = from;
                final int tt = to;
                assertArrayEquals(bits(xs), bits(xv), () -> "gelu on [" + ff + "," + tt + ") of " + x.length);
            }
        }
    }

    @ParameterizedTest(name = "wide {0}, flush {1}")
    @CsvSource({"true, true", "true, false", "false, true", "false, false"})
    void geluBackwardIsBitExact(boolean wide, boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels vector = vector(wide, flush);
        SplittableRandom rnd = new SplittableRandom(32);
        for (float[] z : geluInputs()) {
            for (int t = 0; t < 3; t++) {
                float[] g = KernelTestData.mixed(rnd, z.length);
                int from = t == 0 ? 0 : rnd.nextInt(Math.min(20, z.length));
                int to = t == 0 ? z.length : Math.max(from, z.length - rnd.nextInt(Math.min(20, z.length)));
                float[] zp = padded(z);
                float[] gs = padded(g);
                float[] gv = padded(g);
                scalar.geluBackward(zp, gs, from + 1, to + 1);
                vector.geluBackward(zp, gv, from + 1, to + 1);
                assertArrayEquals(bits(padded(z)), bits(zp), "geluBackward modified z");
                assertUntouchedOutside(gs, from + 1, to + 1, g);
                assertUntouchedOutside(gv, from + 1, to + 1, g);
                assertArrayEquals(bits(gs), bits(gv), () -> "geluBackward on [" + from + "," + to + ")");
            }
        }
    }

    @ParameterizedTest(name = "wide {0}, flush {1}")
    @CsvSource({"true, true", "true, false", "false, true", "false, false"})
    void geluSecondTermIsBitExact(boolean wide, boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels vector = vector(wide, flush);
        SplittableRandom rnd = new SplittableRandom(33);
        for (float[] z : geluInputs()) {
            for (int t = 0; t < 3; t++) {
                float[] rz = KernelTestData.mixed(rnd, z.length);
                float[] g = KernelTestData.mixed(rnd, z.length);
                float[] rDelta = KernelTestData.mixed(rnd, z.length);
                int from = t == 0 ? 0 : rnd.nextInt(Math.min(20, z.length));
                int to = t == 0 ? z.length : Math.max(from, z.length - rnd.nextInt(Math.min(20, z.length)));
                float[] zp = padded(z);
                float[] rzp = padded(rz);
                float[] gp = padded(g);
                float[] rs = padded(rDelta);
                float[] rv = padded(rDelta);
                scalar.geluSecondTerm(zp, rzp, gp, rs, from + 1, to + 1);
                vector.geluSecondTerm(zp, rzp, gp, rv, from + 1, to + 1);
                assertArrayEquals(bits(padded(z)), bits(zp), "geluSecondTerm modified z");
                assertArrayEquals(bits(padded(rz)), bits(rzp), "geluSecondTerm modified rz");
                assertArrayEquals(bits(padded(g)), bits(gp), "geluSecondTerm modified g");
                assertUntouchedOutside(rs, from + 1, to + 1, rDelta);
                assertUntouchedOutside(rv, from + 1, to + 1, rDelta);
                assertArrayEquals(bits(rs), bits(rv), () -> "geluSecondTerm on [" + from + "," + to + ")");
            }
        }
    }

    /**
     * {@link #inputs()} plus GELU's own range: uniform on [&minus;16, 16] (every branch, the
     * underflow on the negative side), and values within a few thousand floats of each of its
     * switches.
     */
    private static List<float[]> geluInputs() {
        List<float[]> in = inputs();
        SplittableRandom rnd = new SplittableRandom(24);
        float[] wide = new float[8195];
        for (int j = 0; j < wide.length; j++) {
            wide[j] = (float) (rnd.nextDouble() * 32 - 16);
        }
        in.add(wide);
        float[] near = new float[4103];
        float[] centres = {MathF.GELU_SMALL, MathF.GELU_D_SMALL, MathF.GELU_MID, MathF.GELU_ONE, MathF.GELU_ZERO,
                           1.5f, MathF.T0_HI, (float) Math.sqrt(2), 14.4f};
        for (int j = 0; j < near.length; j++) {
            float c = centres[rnd.nextInt(centres.length)] * (rnd.nextBoolean() ? 1 : -1);
            near[j] = Float.intBitsToFloat(Float.floatToRawIntBits(c) + rnd.nextInt(-3000, 3001));
        }
        in.add(near);
        return in;
    }

    /** The documented chains of the GELU kernels, written out here from DenseKernels' documentation. */
    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void geluKernelsFollowTheirDocumentedChains(boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        SplittableRandom rnd = new SplittableRandom(34);
        for (float[] z : geluInputs()) {
            float[] rz = KernelTestData.mixed(rnd, z.length);
            float[] g = KernelTestData.mixed(rnd, z.length);
            float[] rDelta = KernelTestData.mixed(rnd, z.length);
            float[] x = z.clone();
            float[] gb = g.clone();
            float[] rd = rDelta.clone();
            scalar.geluInPlace(x, 0, x.length);
            scalar.geluBackward(z, gb, 0, z.length);
            scalar.geluSecondTerm(z, rz, g, rd, 0, z.length);
            for (int j = 0; j < z.length; j++) {
                float a = MathF.gelu(z[j]);
                float b = g[j] * MathF.geluDerivative(z[j]);
                float c = rDelta[j] + (g[j] * MathF.geluSecondDerivative(z[j])) * rz[j];
                if (flush) {
                    a = Subnormals.flush(a);
                    b = Subnormals.flush(b);
                    c = Subnormals.flush(c);
                }
                final int jj = j;
                assertEquals(Float.floatToRawIntBits(a), Float.floatToRawIntBits(x[j]), () -> "gelu " + z[jj]);
                assertEquals(Float.floatToRawIntBits(b), Float.floatToRawIntBits(gb[j]), () -> "geluBackward " + z[jj]);
                assertEquals(Float.floatToRawIntBits(c), Float.floatToRawIntBits(rd[j]), () -> "geluSecondTerm " + z[jj]);
            }
        }
    }

    /**
     * The GELU kernels again after enough iterations that C2 has compiled their vector loops (the
     * tests above may partly run in the interpreter or C1, where the Vector API computes lane by
     * lane in Java), with the JVM's own tile choice.
     */
    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void compiledGeluLoopsAreBitExact(boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels vector = VectorKernels.INSTANCE.withSubnormals(flush);
        SplittableRandom rnd = new SplittableRandom(35);
        float[] sp = specials();
        float[] z = new float[8191];
        float[] rz = KernelTestData.mixed(rnd, z.length);
        float[] g = KernelTestData.mixed(rnd, z.length);
        float[] rDelta = KernelTestData.mixed(rnd, z.length);
        for (int round = 0; round < 150; round++) {
            for (int j = 0; j < z.length; j++) {
                z[j] = j % 7 == 0 ? sp[rnd.nextInt(sp.length)] : (float) ((rnd.nextDouble() * 2 - 1) * 8);
            }
            float[] xs = z.clone();
            float[] xv = z.clone();
            scalar.geluInPlace(xs, 0, xs.length);
            vector.geluInPlace(xv, 0, xv.length);
            assertArrayEquals(bits(xs), bits(xv), "gelu, round " + round);
            float[] gs = g.clone();
            float[] gv = g.clone();
            scalar.geluBackward(z, gs, 0, gs.length);
            vector.geluBackward(z, gv, 0, gv.length);
            assertArrayEquals(bits(gs), bits(gv), "geluBackward, round " + round);
            float[] rs = rDelta.clone();
            float[] rv = rDelta.clone();
            scalar.geluSecondTerm(z, rz, g, rs, 0, rs.length);
            vector.geluSecondTerm(z, rz, g, rv, 0, rv.length);
            assertArrayEquals(bits(rs), bits(rv), "geluSecondTerm, round " + round);
        }
    }

    /**
     * The scalar reference is MathF itself (so the two tests above compare against MathF): exactly
     * in strict mode, MathF's result flushed to a signed zero where subnormal in flush mode.
     */
    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void scalarKernelsAreMathF(boolean flush) {
        final DenseKernels scalar = ScalarKernels.INSTANCE.withSubnormals(flush);
        float[] sp = specials();
        float[] t = sp.clone();
        float[] s = sp.clone();
        scalar.tanhInPlace(t, 0, t.length);
        scalar.sigmoidInPlace(s, 0, s.length);
        int flushed = 0;
        for (int j = 0; j < sp.length; j++) {
            float tanh = MathF.tanh(sp[j]);
            float sigmoid = MathF.sigmoid(sp[j]);
            if (flush && Math.abs(tanh) < Float.MIN_NORMAL && tanh != 0) {
                tanh = Math.copySign(0f, tanh);
                flushed++;
            }
            if (flush) {
                sigmoid = Subnormals.flush(sigmoid);
            }
            assertEquals(Float.floatToRawIntBits(tanh), Float.floatToRawIntBits(t[j]), "tanh " + sp[j]);
            assertEquals(Float.floatToRawIntBits(sigmoid), Float.floatToRawIntBits(s[j]), "sigmoid " + sp[j]);
        }
        if (flush) {
            // the specials hold subnormals, whose tanh is themselves: the flush was exercised
            assertTrue(flushed > 0, "no subnormal tanh among the specials");
        }
    }

    /** The vector exp alone, lane by lane, including its clamps and NaN payloads. */
    @Test
    void vectorExpIsBitExact() {
        List<float[]> in = inputs();
        // exp's own range: up to +-104, where both clamps act
        SplittableRandom rnd = new SplittableRandom(22);
        float[] wide = new float[1 << 16];
        for (int j = 0; j < wide.length; j++) {
            wide[j] = (float) (rnd.nextDouble() * 208 - 104);
        }
        in.add(wide);
        int lanes = S.length();
        for (float[] x : in) {
            for (int j = 0; j + lanes <= x.length; j += lanes) {
                float[] got = new float[lanes];
                VectorKernels.exp(FloatVector.fromArray(S, x, j)).intoArray(got, 0);
                for (int l = 0; l < lanes; l++) {
                    float xi = x[j + l];
                    assertEquals(Float.floatToRawIntBits(MathF.exp(xi)), Float.floatToRawIntBits(got[l]),
                            () -> "exp(" + xi + ")");
                }
            }
        }
    }

    /**
     * The same comparisons after enough iterations that C2 has compiled the vector loops (the tests
     * above may partly run in the interpreter, where the Vector API computes lane by lane in Java).
     */
    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void compiledVectorLoopsAreBitExact(boolean flush) {
        final DenseKernels SCALAR = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels VECTOR = VectorKernels.INSTANCE.withSubnormals(flush);
        SplittableRandom rnd = new SplittableRandom(23);
        float[] sp = specials();
        float[] x = new float[8192];
        float[] g = KernelTestData.mixed(rnd, x.length);
        for (int round = 0; round < 200; round++) {
            for (int j = 0; j < x.length; j++) {
                x[j] = j % 7 == 0 ? sp[rnd.nextInt(sp.length)] : (float) ((rnd.nextDouble() * 2 - 1) * 40);
            }
            float[] ts = x.clone();
            float[] tv = x.clone();
            SCALAR.tanhInPlace(ts, 0, ts.length);
            VECTOR.tanhInPlace(tv, 0, tv.length);
            assertArrayEquals(bits(ts), bits(tv), "tanh, round " + round);
            float[] ss = x.clone();
            float[] sv = x.clone();
            SCALAR.sigmoidInPlace(ss, 0, ss.length);
            VECTOR.sigmoidInPlace(sv, 0, sv.length);
            assertArrayEquals(bits(ss), bits(sv), "sigmoid, round " + round);
            float[] gs = g.clone();
            float[] gv = g.clone();
            SCALAR.sigmoidBackward(ss, gs, 0, gs.length);
            VECTOR.sigmoidBackward(ss, gv, 0, gv.length);
            assertArrayEquals(bits(gs), bits(gv), "sigmoidBackward, round " + round);
            gs = g.clone();
            gv = g.clone();
            SCALAR.tanhBackward(ts, gs, 0, gs.length);
            VECTOR.tanhBackward(ts, gv, 0, gv.length);
            canonicalizeWhereNaN(ts, gs, 0, gs.length);
            canonicalizeWhereNaN(ts, gv, 0, gv.length);
            assertArrayEquals(bits(gs), bits(gv), "tanhBackward, round " + round);
        }
    }

    /** relu semantics the vector blend must keep: -0 and NaN become +0. */
    @ParameterizedTest(name = "flush {0}")
    @ValueSource(booleans = {true, false})
    void reluMapsNegativeZeroAndNaNToPositiveZero(boolean flush) {
        final DenseKernels SCALAR = ScalarKernels.INSTANCE.withSubnormals(flush);
        final DenseKernels VECTOR = VectorKernels.INSTANCE.withSubnormals(flush);
        float[] x = new float[32];
        Arrays.fill(x, -0f);
        x[3] = Float.NaN;
        x[20] = Float.intBitsToFloat(0xFFC00001);
        x[7] = 2.5f;
        VECTOR.reluInPlace(x, 0, 32);
        for (int j = 0; j < 32; j++) {
            assertEquals(j == 7 ? Float.floatToRawIntBits(2.5f) : 0, Float.floatToRawIntBits(x[j]), "at " + j);
        }
    }
}
