package dev.checkprop.data;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Seeds;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class BatcherTest {

    @Test
    void thePermutationIsPinned() {
        // Pinned so that a change to the shuffle (which would change every run's batches) is noticed.
        assertArrayEquals(new int[] {9, 3, 7, 1, 8, 0, 5, 4, 6, 2}, Batcher.permutation(10, 42, 0));
        assertArrayEquals(new int[] {3, 2, 8, 0, 7, 6, 4, 5, 9, 1}, Batcher.permutation(10, 42, 1));
        assertArrayEquals(new int[0], Batcher.permutation(0, 1, 0));
        assertArrayEquals(new int[] {0}, Batcher.permutation(1, 1, 0));
    }

    @Test
    void thePermutationIsTheDocumentedFisherYates() {
        for (long stream = 0; stream < 5; stream++) {
            int[] p = new int[37];
            for (int i = 0; i < p.length; i++) {
                p[i] = i;
            }
            for (int i = p.length - 1; i > 0; i--) {
                long bits = Seeds.bits(7, stream, i);
                // Unsigned modulo, written without Long.remainderUnsigned.
                int j = (int) (((bits >>> 1) % (i + 1) * 2 + (bits & 1)) % (i + 1));
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            assertArrayEquals(p, Batcher.permutation(37, 7, stream), "stream " + stream);
        }
    }

    @Test
    void positionsAreRoughlyUniform() {
        // Over 4000 epochs every sample should land in every position about 1000 times.
        int[][] counts = new int[4][4];
        for (int e = 0; e < 4000; e++) {
            int[] p = Batcher.permutation(4, 99, e);
            for (int pos = 0; pos < 4; pos++) {
                counts[pos][p[pos]]++;
            }
        }
        for (int[] row : counts) {
            for (int c : row) {
                assertTrue(c > 880 && c < 1120, Arrays.deepToString(counts));
            }
        }
    }

    @Test
    void everySampleExactlyOncePerEpoch() {
        Dataset d = DatasetTest.indexed(12);
        Batcher b = new Batcher(d, 4, 5);
        assertEquals(3, b.stepsPerEpoch());
        for (int epoch = 0; epoch < 4; epoch++) {
            int[] seen = new int[12];
            for (int k = 0; k < 3; k++) {
                long step = epoch * 3L + k;
                assertEquals(epoch, b.epochOf(step));
                for (int i : b.indices(step)) {
                    seen[i]++;
                }
            }
            int[] ones = new int[12];
            Arrays.fill(ones, 1);
            assertArrayEquals(ones, seen, "epoch " + epoch);
        }
    }

    @Test
    void theLastPartialBatchIsDropped() {
        Dataset d = DatasetTest.indexed(10);
        Batcher b = new Batcher(d, 4, 5);
        assertEquals(2, b.stepsPerEpoch(), "10 / 4 = 2 full batches; 2 samples dropped per epoch");
        BitSet everUsed = new BitSet();
        for (int epoch = 0; epoch < 20; epoch++) {
            BitSet seen = new BitSet();
            for (int k = 0; k < 2; k++) {
                for (int i : b.indices(epoch * 2L + k)) {
                    assertFalse(seen.get(i), "sample " + i + " twice in epoch " + epoch);
                    seen.set(i);
                }
            }
            assertEquals(8, seen.cardinality());
            everUsed.or(seen);
        }
        assertEquals(10, everUsed.cardinality(), "the dropped samples change from epoch to epoch");
    }

    @Test
    void batchesArePureFunctionsOfSeedAndStep() {
        Dataset d = DatasetTest.indexed(50);
        Batcher a = new Batcher(d, 8, 123);
        Batcher b = new Batcher(d, 8, 123);
        int[][] sequential = new int[30][];
        for (int s = 0; s < 30; s++) {
            sequential[s] = a.indices(s);
        }
        // b is asked in another order: answers must not depend on what came before.
        for (int s = 29; s >= 0; s -= 3) {
            assertArrayEquals(sequential[s], b.indices(s), "step " + s);
        }
        assertArrayEquals(sequential[7], b.indices(7));
        Batcher other = new Batcher(d, 8, 124);
        assertFalse(Arrays.equals(sequential[0], other.indices(0)), "another seed, another order");
        int[] epoch0 = Arrays.copyOf(Batcher.permutation(50, 123, 0), 48);
        int[] epoch1 = Arrays.copyOf(Batcher.permutation(50, 123, 1), 48);
        assertFalse(Arrays.equals(epoch0, epoch1), "another epoch, another order");
        assertArrayEquals(Arrays.copyOfRange(epoch1, 8, 16), a.indices(7), "step 7 = epoch 1 (6 steps per epoch), batch 1");
    }

    @Test
    void fillAndBatchCopyTheIndexedRows() {
        Dataset d = DatasetTest.indexed(20);
        Batcher b = new Batcher(d, 5, 77);
        float[] x = new float[10];
        int[] labels = new int[5];
        for (long s = 0; s < 9; s++) {
            int[] idx = b.indices(s);
            b.fill(s, x, labels);
            Batch expected = d.batch(idx);
            assertArrayEquals(expected.inputs(), x);
            assertArrayEquals(expected.labels(), labels);
            Batch batch = b.batch(s);
            assertArrayEquals(expected.inputs(), batch.inputs());
            assertArrayEquals(expected.labels(), batch.labels());
        }
        assertSame(b.batch(0), b.batch(1), "one batch object, refilled");
        assertSame(b.batch(0).inputs(), b.batch(3).inputs());

        Dataset r = Dataset.regression(new float[] {0, 1, 2, 3, 4, 5}, 1, new float[] {0, 10, 20, 30, 40, 50}, 1);
        Batcher rb = new Batcher(r, 3, 1);
        float[] rx = new float[3];
        float[] ry = new float[3];
        rb.fill(4, rx, ry);
        for (int k = 0; k < 3; k++) {
            assertEquals(rx[k] * 10, ry[k], "targets travel with their inputs");
            assertEquals(rb.indices(4)[k], (int) rx[k]);
        }
        assertArrayEquals(rx, rb.batch(4).inputs());
        assertArrayEquals(ry, rb.batch(4).targets());
    }

    @Test
    void misuseIsReported() {
        Dataset c = DatasetTest.indexed(10);
        Dataset r = Dataset.regression(new float[] {0, 1, 2}, 1, new float[] {0, 1, 2}, 1);
        assertEquals("batch size must be in 1..10 (the dataset's size), got 11",
                assertThrows(IllegalArgumentException.class, () -> new Batcher(c, 11, 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Batcher(c, 0, 1));
        Batcher b = new Batcher(c, 4, 1);
        assertEquals("step must be >= 0, got -1", assertThrows(IllegalArgumentException.class, () -> b.batch(-1)).getMessage());
        assertEquals("x has room for 7 values, a batch needs 8",
                assertThrows(IllegalArgumentException.class, () -> b.fill(0, new float[7], new int[4])).getMessage());
        assertEquals("labels has room for 3 values, a batch needs 4",
                assertThrows(IllegalArgumentException.class, () -> b.fill(0, new float[8], new int[3])).getMessage());
        assertEquals("the dataset has labels: use fill(step, x, labels)",
                assertThrows(IllegalStateException.class, () -> b.fill(0, new float[8], new float[4])).getMessage());
        Batcher rb = new Batcher(r, 2, 1);
        assertEquals("the dataset has regression targets: use fill(step, x, y)",
                assertThrows(IllegalStateException.class, () -> rb.fill(0, new float[2], new int[2])).getMessage());
    }

    @Test
    void batchAllocatesNothingPerStep() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean
                && bean.isThreadAllocatedMemorySupported() && bean.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread");
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Dataset d = Synthetic.spirals(1000, 0.1, 3);
        Batcher b = new Batcher(d, 32, 4);
        float[] x = new float[64];
        int[] labels = new int[32];
        long sink = 0;
        // The least over four rounds after a first that compiles: a JIT event in one round (seen under
        // load: 2 KB once) is not the batcher's, while an allocation per step (at least 16 bytes times
        // 3000) shows in every round.
        long least = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long before = bean.getCurrentThreadAllocatedBytes();
            for (long s = 0; s < 3000; s++) {
                sink += b.batch(s).labels()[0];
                b.fill(s, x, labels);
            }
            long bytes = bean.getCurrentThreadAllocatedBytes() - before;
            if (rep > 0) {
                least = Math.min(least, bytes);
            }
        }
        assertTrue(least < 1024, "3000 steps (about 100 epochs) allocated at least " + least + " bytes; sink " + sink);
    }
}
