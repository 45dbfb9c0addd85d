package dev.checkprop.data;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Datasets in the data-file layout of {@link ModelFile}: {@code x} F32 {@code [N, n0]}, and
 * {@code y} F32 {@code [N, nOut]} or {@code labels} I32/I64 {@code [N]}. Reading goes through
 * {@link ModelFile#loadData}, so its checks (shapes, dtypes, finite values) and its messages apply.
 */
public final class SafeTensorsData {

    private SafeTensorsData() {
    }

    /**
     * Reads a dataset: x with labels (K is one more than the largest label) when
     * {@code classification}, x with y otherwise.
     *
     * @throws SafeTensorsException naming the file and tensor if the file is malformed or lacks x,
     *                              y or labels
     * @throws DataFormatException  naming the file and sample of a negative label
     * @throws IOException          if the file cannot be read
     */
    public static Dataset load(Path path, boolean classification) throws IOException {
        final Batch b = ModelFile.loadData(path, classification ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE);
        if (!classification) {
            return Dataset.adoptRegression(b.inputs(), b.inputWidth(), b.targets(), b.targetWidth());
        }
        final int[] labels = b.labels();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] == Integer.MAX_VALUE) {
                throw new DataFormatException(path + ": labels[" + i + "] is " + labels[i]
                        + (labels[i] < 0 ? ": labels must be non-negative" : ": too large"));
            }
        }
        int classes = Dataset.inferClasses(labels);
        Dataset.checkInferredClasses(labels, classes, i -> path + ": labels[" + i + "]");
        return Dataset.adoptClassification(b.inputs(), b.inputWidth(), labels, classes);
    }

    /**
     * Reads a dataset whose task the file tells: classification when it has {@code labels}, regression
     * when it has {@code y} and no labels (only the header is read to decide).
     *
     * @throws SafeTensorsException naming the file if it has neither, or as {@link #load(Path, boolean)}
     */
    public static Dataset load(Path path) throws IOException {
        final boolean labels;
        final boolean targets;
        try (SafeTensors.Reader r = SafeTensors.open(path)) {
            labels = r.names().contains("labels");
            targets = r.names().contains("y");
        }
        if (!labels && !targets) {
            throw new SafeTensorsException(path + ": neither labels (I32 or I64 [N], for classification) nor y (F32 [N, n_L],"
                    + " for regression)");
        }
        return load(path, labels);
    }

    /** Writes a dataset in the layout {@link #load} reads (labels as I64, as PyTorch stores them). */
    public static void save(Dataset data, Path path) throws IOException {
        ModelFile.saveData(data.toBatch(), path);
    }
}
