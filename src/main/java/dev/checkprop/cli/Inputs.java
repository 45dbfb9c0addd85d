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
        Batch batch = ModelFile.loadData(data, loss);
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
