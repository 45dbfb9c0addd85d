package dev.checkprop.data;

import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticTest {

    @Test
    void spiralsShapeAndLabels() {
        Dataset d = Synthetic.spirals(101, 0.05, 1);
        assertEquals(101, d.size());
        assertEquals(2, d.inputWidth());
        assertEquals(2, d.classes());
        for (int i = 0; i < d.size(); i++) {
            assertEquals(i % 2, d.label(i));
        }
    }

    @Test
    void noiselessSpiralsLieOnTheirCurves() {
        int turns = 3;
        Dataset d = Synthetic.spirals(400, turns, 0, 8);
        double maxAngle = 2 * Math.PI * turns;
        for (int i = 0; i < d.size(); i++) {
            double x = d.input(i, 0);
            double y = d.input(i, 1);
            double r = Math.hypot(x, y);
            assertTrue(r >= 0.05 - 1e-6 && r <= 1 + 1e-6, "radius " + r);
            // r = 0.05 + 0.95 theta / maxAngle gives theta; class 1 is class 0 turned by pi.
            double theta = (r - 0.05) / 0.95 * maxAngle + (d.label(i) == 1 ? Math.PI : 0);
            assertEquals(r * Math.cos(theta), x, 2e-5, "sample " + i);
            assertEquals(r * Math.sin(theta), y, 2e-5, "sample " + i);
        }
    }

    @Test
    void noiseHasTheRequestedSpread() {
        // Same seed, same angles: the difference is exactly the noise.
        Dataset clean = Synthetic.spirals(4000, 0, 2);
        Dataset noisy = Synthetic.spirals(4000, 0.1, 2);
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < clean.size(); i++) {
            for (int k = 0; k < 2; k++) {
                double e = noisy.input(i, k) - clean.input(i, k);
                sum += e;
                sumSq += e * e;
            }
        }
        int n = 2 * clean.size();
        assertEquals(0, sum / n, 0.005, "mean");
        assertEquals(0.1, Math.sqrt(sumSq / n - (sum / n) * (sum / n)), 0.005, "standard deviation");
    }

    @Test
    void normalNumbersAreStandard() {
        double sum = 0;
        double sumSq = 0;
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            double z = Synthetic.normal(5, 0, i);
            assertTrue(Double.isFinite(z));
            sum += z;
            sumSq += z * z;
        }
        assertEquals(0, sum / n, 0.02);
        assertEquals(1, sumSq / n, 0.02);
        assertEquals(Synthetic.normal(5, 0, 17), Synthetic.normal(5, 0, 17));
    }

    @Test
    void spiralsAreSeeded() {
        Dataset a = Synthetic.spirals(64, 0.05, 3);
        Dataset b = Synthetic.spirals(64, 0.05, 3);
        Dataset c = Synthetic.spirals(64, 0.05, 4);
        assertArrayEquals(a.toBatch().inputs(), b.toBatch().inputs(), "bit-identical for the same seed");
        assertFalse(java.util.Arrays.equals(a.toBatch().inputs(), c.toBatch().inputs()));
    }

    @Test
    void spiralArgumentsAreChecked() {
        assertEquals("spirals need n >= 2 samples (one per class), got 1",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.spirals(1, 0, 1)).getMessage());
        assertEquals("spirals need turns >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.spirals(10, 0, 0, 1)).getMessage());
        assertEquals("noise must be finite and >= 0, got -0.1",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.spirals(10, -0.1, 1)).getMessage());
        assertEquals("noise must be finite and >= 0, got NaN",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.spirals(10, Double.NaN, 1)).getMessage());
    }

    @Test
    void teacherTargetsAreTheTeachersOutputs() {
        Dataset d = Synthetic.teacher(50, 4, 3, 8, 3, 9);
        assertEquals(50, d.size());
        assertEquals(4, d.inputWidth());
        assertEquals(3, d.targetWidth());
        Network teacher = Synthetic.teacherNetwork(4, 3, 8, 3, 9);
        assertEquals(3, teacher.depth());
        assertEquals(Activation.TANH, ((DenseLayer) teacher.layer(2)).activation());
        assertEquals(Activation.IDENTITY, ((DenseLayer) teacher.layer(3)).activation());
        double variance = 0;
        for (int i = 0; i < d.size(); i++) {
            double[] a = new double[4];
            for (int k = 0; k < 4; k++) {
                float v = d.input(i, k);
                assertTrue(v >= -1 && v < 1, "input " + v);
                a[k] = v;
            }
            for (Layer layer : teacher.layers()) {
                double[] z = new double[layer.outputWidth()];
                for (int o = 0; o < z.length; o++) {
                    double s = layer.bias()[o];
                    for (int k = 0; k < a.length; k++) {
                        s += layer.weights()[o * a.length + k] * a[k];
                    }
                    z[o] = ((AffineLayer) layer).activation() == Activation.TANH ? Math.tanh(s) : s;
                }
                a = z;
            }
            for (int u = 0; u < 3; u++) {
                assertEquals(a[u], d.target(i, u), 1e-5, "sample " + i + " output " + u);
                variance += a[u] * a[u];
            }
        }
        assertTrue(variance / 150 > 0.01, "targets are not trivially small: " + variance / 150);
    }

    @Test
    void teacherIsSeededAndDepthOneIsLinear() {
        Dataset a = Synthetic.teacher(20, 3, 2, 5, 2, 1);
        Dataset b = Synthetic.teacher(20, 3, 2, 5, 2, 1);
        assertArrayEquals(a.toBatch().targets(), b.toBatch().targets());
        assertFalse(java.util.Arrays.equals(a.toBatch().targets(), Synthetic.teacher(20, 3, 2, 5, 2, 2).toBatch().targets()));
        Network linear = Synthetic.teacherNetwork(3, 2, 99, 1, 1);
        assertEquals(1, linear.depth());
        assertEquals(Activation.IDENTITY, ((DenseLayer) linear.layer(1)).activation());
        assertEquals("teacher depth must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.teacher(5, 3, 2, 5, 0, 1)).getMessage());
        assertEquals("teacher needs n >= 1 samples, got 0",
                assertThrows(IllegalArgumentException.class, () -> Synthetic.teacher(0, 3, 2, 5, 2, 1)).getMessage());
    }
}
