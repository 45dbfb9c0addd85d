package dev.checkprop.data;

import dev.checkprop.nn.Batch;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetTest {

    /** n samples of width 2 whose first input is the sample's index, labels i % 3. */
    static Dataset indexed(int n) {
        float[] x = new float[2 * n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            labels[i] = i % 3;
        }
        return Dataset.classification(x, 2, labels, 3);
    }

    private static void assertFails(String message, Runnable r) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }

    @Test
    void factoriesCopyAndAccessorsRead() {
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] y = {0.5f, -0.5f, 1.5f};
        Dataset d = Dataset.regression(x, 2, y, 1);
        x[0] = 99;
        y[0] = 99;
        assertEquals(3, d.size());
        assertEquals(2, d.inputWidth());
        assertFalse(d.isClassification());
        assertEquals(1, d.targetWidth());
        assertEquals(0, d.classes());
        assertEquals(1, d.outputWidth());
        assertEquals(1f, d.input(0, 0), "a copy, unaffected by the caller's array");
        assertEquals(0.5f, d.target(0, 0));
        assertEquals(6f, d.input(2, 1));
        assertThrows(IllegalStateException.class, () -> d.label(0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.input(3, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.input(0, 2));
        assertEquals("Dataset[N=3, n0=2, targets of width 1]", d.toString());

        Dataset c = indexed(5);
        assertTrue(c.isClassification());
        assertEquals(3, c.classes());
        assertEquals(3, c.outputWidth());
        assertEquals(0, c.targetWidth());
        assertEquals(1, c.label(4));
        assertThrows(IllegalStateException.class, () -> c.target(0, 0));
        assertEquals("Dataset[N=5, n0=2, 3 classes]", c.toString());
    }

    @Test
    void badValuesAreRejectedWithTheirPlace() {
        assertFails("x[1, 0] is NaN: values must be finite",
                () -> Dataset.regression(new float[] {1, 2, Float.NaN, 4}, 2, new float[] {0, 0}, 1));
        assertFails("y[1, 1] is Infinity: values must be finite",
                () -> Dataset.regression(new float[] {1, 2}, 1, new float[] {0, 0, 0, Float.POSITIVE_INFINITY}, 2));
        assertFails("y has 3 values, expected N*nOut = 2*2",
                () -> Dataset.regression(new float[] {1, 2}, 1, new float[] {0, 0, 0}, 2));
        assertFails("x has 3 values, not a positive multiple of its width 2",
                () -> Dataset.classification(new float[] {1, 2, 3}, 2, new int[] {0}, 1));
        assertFails("labels have 1 entries but x has 2 rows",
                () -> Dataset.classification(new float[] {1, 2}, 1, new int[] {0}, 1));
        assertFails("label 3 of sample 1 is out of range 0..2",
                () -> Dataset.classification(new float[] {1, 2}, 1, new int[] {0, 3}, 3));
        assertFails("label -1 of sample 1 is negative",
                () -> Dataset.classification(new float[] {1, 2}, 1, new int[] {0, -1}));
        assertEquals(8, Dataset.classification(new float[] {1, 2}, 1, new int[] {7, 0}).classes(), "K = largest label + 1");
    }

    @Test
    void batchCopiesRowsInTheGivenOrder() {
        Dataset d = indexed(6);
        Batch b = d.batch(new int[] {4, 1, 4});
        assertEquals(3, b.size());
        assertArrayEquals(new float[] {4, -4, 1, -1, 4, -4}, b.inputs());
        assertArrayEquals(new int[] {1, 1, 1}, b.labels());
        b.inputs()[0] = 42;
        assertEquals(4f, d.input(4, 0), "the batch is a copy");
        assertThrows(IndexOutOfBoundsException.class, () -> d.batch(new int[] {6}));
        assertFails("a batch needs at least one sample", () -> d.batch(new int[0]));

        Dataset r = Dataset.regression(new float[] {1, 2, 3}, 1, new float[] {10, 11, 20, 21, 30, 31}, 2);
        Batch rb = r.batch(new int[] {2, 0});
        assertArrayEquals(new float[] {3, 1}, rb.inputs());
        assertArrayEquals(new float[] {30, 31, 10, 11}, rb.targets());
        assertNull(rb.labels());
    }

    @Test
    void toBatchAndOfRoundTrip() {
        Dataset d = indexed(4);
        Dataset back = Dataset.of(d.toBatch());
        assertArrayEquals(d.toBatch().inputs(), back.toBatch().inputs());
        assertArrayEquals(d.toBatch().labels(), back.toBatch().labels());
        assertEquals(3, back.classes());
    }

    @Test
    void subsetKeepsTheClassCount() {
        Dataset d = indexed(6);
        Dataset s = d.subset(new int[] {0, 3});
        assertEquals(2, s.size());
        assertEquals(3, s.classes(), "K stays 3 though only class 0 is present");
        assertEquals(3f, s.input(1, 0));
    }

    @Test
    void splitIsASeededPartitionInOriginalOrder() {
        Dataset d = indexed(10);
        Dataset.Split split = d.split(0.25, 42);
        assertEquals(3, split.heldOut().size(), "round(2.5) = 3 held out");
        assertEquals(7, split.train().size());
        int[] held = ids(split.heldOut());
        int[] train = ids(split.train());
        assertTrue(isIncreasing(held) && isIncreasing(train), Arrays.toString(held) + " " + Arrays.toString(train));
        int[] all = IntStream.concat(Arrays.stream(held), Arrays.stream(train)).sorted().toArray();
        assertArrayEquals(IntStream.range(0, 10).toArray(), all, "every sample in exactly one part");
        assertEquals(3, split.train().classes());

        Dataset.Split again = d.split(0.25, 42);
        assertArrayEquals(held, ids(again.heldOut()), "same seed, same split");
        int[] documented = Arrays.copyOf(Batcher.permutation(10, 42, -1), 3);
        Arrays.sort(documented);
        assertArrayEquals(documented, held, "held out: the first 3 of permutation(10, seed, -1)");
        boolean differs = false;
        for (long seed = 43; seed < 53 && !differs; seed++) {
            differs = !Arrays.equals(held, ids(d.split(0.25, seed).heldOut()));
        }
        assertTrue(differs, "other seeds choose other samples");
    }

    @Test
    void splitFractionsMustLeaveBothPartsNonEmpty() {
        Dataset d = indexed(10);
        assertFails("held-out fraction must be in (0, 1), got 0.0", () -> d.split(0, 1));
        assertFails("held-out fraction must be in (0, 1), got 1.0", () -> d.split(1, 1));
        assertFails("held-out fraction must be in (0, 1), got NaN", () -> d.split(Double.NaN, 1));
        assertFails("a held-out fraction of 0.01 of 10 samples leaves 0 held out and 10 for training; both need at least 1",
                () -> d.split(0.01, 1));
        assertFails("a held-out fraction of 0.97 of 10 samples leaves 10 held out and 0 for training; both need at least 1",
                () -> d.split(0.97, 1));
    }

    private static int[] ids(Dataset d) {
        int[] ids = new int[d.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) d.input(i, 0);
            assertEquals(ids[i] % 3, d.label(i), "labels travel with their rows");
            assertEquals(-ids[i], d.input(i, 1), 0f);
        }
        return ids;
    }

    private static boolean isIncreasing(int[] a) {
        for (int i = 1; i < a.length; i++) {
            if (a[i] <= a[i - 1]) {
                return false;
            }
        }
        return true;
    }

    @Test
    void differentSeedsGiveDifferentPermutations() {
        assertNotEquals(Arrays.toString(Batcher.permutation(20, 1, 0)), Arrays.toString(Batcher.permutation(20, 2, 0)));
    }
}
