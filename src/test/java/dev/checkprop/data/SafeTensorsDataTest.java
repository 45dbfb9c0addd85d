package dev.checkprop.data;

import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsDataTest {

    @TempDir
    Path dir;

    @Test
    void classificationRoundTrip() throws IOException {
        Dataset d = Synthetic.spirals(20, 0.1, 4);
        Path p = dir.resolve("spirals.safetensors");
        SafeTensorsData.save(d, p);
        Dataset back = SafeTensorsData.load(p, true);
        assertArrayEquals(d.toBatch().inputs(), back.toBatch().inputs());
        assertArrayEquals(d.toBatch().labels(), back.toBatch().labels());
        assertEquals(2, back.classes());
    }

    @Test
    void regressionRoundTrip() throws IOException {
        Dataset d = Synthetic.teacher(15, 3, 2, 4, 2, 6);
        Path p = dir.resolve("teacher.safetensors");
        SafeTensorsData.save(d, p);
        Dataset back = SafeTensorsData.load(p, false);
        assertArrayEquals(d.toBatch().inputs(), back.toBatch().inputs());
        assertArrayEquals(d.toBatch().targets(), back.toBatch().targets());
        assertEquals(2, back.targetWidth());
    }

    @Test
    void errorsNameTheFile() throws IOException {
        Path p = dir.resolve("bad.safetensors");
        SafeTensors.builder()
                .putF32("x", new long[] {3, 1}, new float[] {1, 2, 3})
                .putI32("labels", new long[] {3}, new int[] {0, -4, 1})
                .build().write(p);
        assertEquals(p + ": labels[1] is -4: labels must be non-negative",
                assertThrows(DataFormatException.class, () -> SafeTensorsData.load(p, true)).getMessage());
        assertEquals(p + ": missing tensor y: loss mse needs targets y [N, n_L]",
                assertThrows(SafeTensorsException.class, () -> SafeTensorsData.load(p, false)).getMessage());
    }

    @Test
    void theFileSaysWhichTask() throws IOException {
        Path spirals = dir.resolve("spirals.safetensors");
        SafeTensorsData.save(Synthetic.spirals(20, 0.1, 4), spirals);
        assertTrue(SafeTensorsData.load(spirals).isClassification());
        Path teacher = dir.resolve("teacher.safetensors");
        SafeTensorsData.save(Synthetic.teacher(15, 3, 2, 4, 2, 6), teacher);
        Dataset t = SafeTensorsData.load(teacher);
        assertFalse(t.isClassification());
        assertEquals(2, t.targetWidth());
        Path neither = dir.resolve("x-only.safetensors");
        SafeTensors.builder().putF32("x", new long[] {2, 1}, new float[] {1, 2}).build().write(neither);
        assertEquals(neither + ": neither labels (I32 or I64 [N], for classification) nor y (F32 [N, n_L], for regression)",
                assertThrows(SafeTensorsException.class, () -> SafeTensorsData.load(neither)).getMessage());
    }
}
