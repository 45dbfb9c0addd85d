package dev.checkprop.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LearningRateTest {

    private static void assertFails(String expectedMessage, Runnable r) {
        assertEquals(expectedMessage, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }

    @Test
    void constant() {
        LearningRate lr = LearningRate.constant(0.01);
        assertEquals(0.01, lr.at(0));
        assertEquals(0.01, lr.at(Integer.MAX_VALUE));
        assertEquals("constant(0.01)", lr.toString());
    }

    @Test
    void stepDecay() {
        LearningRate lr = LearningRate.step(0.1, 1000, 0.5);
        assertEquals(0.1, lr.at(0));
        assertEquals(0.1, lr.at(999));
        assertEquals(0.05, lr.at(1000));
        assertEquals(0.05, lr.at(1999));
        assertEquals(0.025, lr.at(2500));
        assertEquals(0.1 * Math.pow(0.5, 10), lr.at(10_000), 1e-18);
        assertEquals(0.1 * Math.pow(0.9, 37), LearningRate.step(0.1, 3, 0.9).at(111), 1e-15);
    }

    @Test
    void cosineWithoutWarmup() {
        LearningRate lr = LearningRate.cosine(0.1, 0.0, 100);
        assertEquals(0.1, lr.at(0), 1e-15);
        assertEquals(0.05, lr.at(50), 1e-15);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), lr.at(25), 1e-15);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.99)), lr.at(99), 1e-15);
        assertEquals(0.0, lr.at(100));
        assertEquals(0.0, lr.at(5000));
    }

    @Test
    void cosineWithWarmupAndFloor() {
        LearningRate lr = LearningRate.cosine(1.0, 0.1, 110, 10);
        assertEquals(0.1, lr.at(0), 1e-15, "warmup starts at lr / W");
        assertEquals(0.5, lr.at(4), 1e-15);
        assertEquals(1.0, lr.at(9), 1e-15, "and reaches lr on its last step");
        assertEquals(1.0, lr.at(10), 1e-15, "decay starts at lr");
        assertEquals(0.55, lr.at(60), 1e-15, "halfway between lr and LR_MIN");
        assertEquals(0.1, lr.at(110));
        assertEquals(0.1, lr.at(1_000_000));
    }

    @Test
    void parsing() {
        assertEquals(LearningRate.constant(0.3), LearningRate.parse("constant", 0.3, 10));
        assertEquals(LearningRate.step(0.3, 1000, 0.5), LearningRate.parse("step:1000:0.5", 0.3, 10));
        assertEquals(LearningRate.cosine(0.3, 0, 10, 0), LearningRate.parse("cosine", 0.3, 10));
        assertEquals(LearningRate.cosine(0.3, 0, 10, 2), LearningRate.parse("cosine:2", 0.3, 10));
        assertEquals(LearningRate.cosine(0.3, 0.01, 10, 2), LearningRate.parse(" Cosine:2:0.01 ", 0.3, 10));
    }

    @Test
    void parseErrorsNameTheString() {
        String forms = " (expected constant | step:K:GAMMA | cosine[:WARMUP[:LR_MIN]])";
        assertFails("learning-rate schedule 'linear': unknown schedule" + forms, () -> LearningRate.parse("linear", 0.1, 10));
        assertFails("learning-rate schedule 'constant:3': takes no parameters, got 1" + forms,
                () -> LearningRate.parse("constant:3", 0.1, 10));
        assertFails("learning-rate schedule 'step:1000': takes 2 parameters, got 1" + forms,
                () -> LearningRate.parse("step:1000", 0.1, 10));
        assertFails("learning-rate schedule 'step:abc:0.5': K must be an integer, got 'abc'" + forms,
                () -> LearningRate.parse("step:abc:0.5", 0.1, 10));
        assertFails("learning-rate schedule 'step:0:0.5': K (steps between decays) must be >= 1, got 0" + forms,
                () -> LearningRate.parse("step:0:0.5", 0.1, 10));
        assertFails("learning-rate schedule 'step:10:nan': GAMMA must be a finite number, got 'nan'" + forms,
                () -> LearningRate.parse("step:10:nan", 0.1, 10));
        assertFails("learning-rate schedule 'cosine:1:2:3': takes 0 to 2 parameters, got 3" + forms,
                () -> LearningRate.parse("cosine:1:2:3", 0.1, 10));
        assertFails("learning-rate schedule 'cosine:10': WARMUP must be in 0..9 (below the 10 total steps), got 10" + forms,
                () -> LearningRate.parse("cosine:10", 0.1, 10));
        assertFails("learning-rate schedule 'cosine:0:0.5': LR_MIN 0.5 is above the learning rate 0.1" + forms,
                () -> LearningRate.parse("cosine:0:0.5", 0.1, 10));
        assertFails("learning-rate schedule 'constant': learning rate must be finite and >= 0, got -1.0" + forms,
                () -> LearningRate.parse("constant", -1, 10));
    }

    @Test
    void negativeStepsAreRejected() {
        assertFails("step must be >= 0, got -1", () -> LearningRate.constant(0.1).at(-1));
        assertFails("step must be >= 0, got -5", () -> LearningRate.cosine(0.1, 0, 10).at(-5));
    }

    @Test
    void integerPowerMatchesMathPow() {
        for (double base : new double[] {0.9f, 0.999f, 0.5, 1.5}) {
            for (long e : new long[] {0, 1, 2, 7, 100, 12345}) {
                double expected = Math.pow(base, e);
                assertEquals(expected, Schedules.powInt(base, e), expected * (e + 1) * 0x1p-52, base + "^" + e);
            }
        }
    }
}
