package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

import java.io.IOException;
import java.nio.file.Path;

/** Loading a batch for a model, with the checks every command that runs one needs. */
final class Inputs {

    private Inputs() {
    }

    /**
     * Reads {@code data} for {@code loss} and checks it against {@code net} (input width, targets or
     * labels), naming both files in the error.
     */
    static Batch batchFor(Network net, Path model, Path data, Loss loss) throws IOException {
        return batchFor(net, model, data, null, 0, loss);
    }

    /**
     * As {@link #batchFor(Network, Path, Path, Loss)}, also reading what {@code train --data} reads:
     * a CSV file ({@code --targets} regression columns, else the last column the label) or an IDX
     * images file with its labels file, loaded by {@link DataOptions#load}. A safetensors file (or
     * any other name) is read as before, for the loss.
     */
    static Batch batchFor(Network net, Path model, Path data, Path idxLabels, int targets, Loss loss) throws IOException {
        boolean csv = data.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".csv");
        if (targets < 0) {
            throw new IllegalArgumentException("--targets must be >= 0, got " + targets);
        }
        Batch batch = idxLabels != null || csv
                ? DataOptions.load(null, data, idxLabels, targets, 0, 0, 0).toBatch()
                : ModelFile.loadData(data, loss);
        if (batch.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException(data + ": x has width " + batch.inputWidth() + " but " + model
                    + " takes inputs of width " + net.inputWidth());
        }
        try {
            loss.checkCompatible(net, batch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(data + " with " + model + ": " + e.getMessage(), e);
        }
        return batch;
    }
}
