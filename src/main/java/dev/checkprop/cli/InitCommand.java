package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.memory.Preflight;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code init}: write a seeded dense chain (and optionally a random batch for it) as safetensors files. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a seeded dense network, and optionally a random batch for it, as safetensors files.")
final class InitCommand implements Callable<Integer> {

    @Option(names = "--input", required = true, description = "input width n_0")
    int input;

    @Option(names = "--layers", required = true, description = "number of layers L")
    int layers;

    @Option(names = "--width", required = true, description = "width of layers 1..L-1")
    int width;

    @Option(names = "--output", required = true, description = "output width n_L")
    int output;

    @Option(names = "--activation", defaultValue = "tanh", description = "hidden activation (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--output-activation", defaultValue = "identity", description = "last layer's activation (default: ${DEFAULT-VALUE})")
    String outputActivation;

    @Option(names = "--seed", defaultValue = "42", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", required = true, description = "model file to write")
    Path out;

    @Option(names = "--data", description = "also write a random batch here")
    Path data;

    @Option(names = "--batch", defaultValue = "64", description = "samples of the random batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--loss", defaultValue = "mse", description = "mse or mse-mean (writes y), or softmax-ce (writes labels)")
    String loss;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (layers < 1 || input < 1 || width < 1 || output < 1 || batch < 1) {
            throw new IllegalArgumentException("--input, --layers, --width, --output and --batch must be >= 1");
        }
        new FileArgs().out("--out", out).out("--data", data).check();
        // Every option is checked before the first file is written: a bad --loss must not leave a model behind.
        Activation hidden = Activation.parse(activation);
        Activation last = Activation.parse(outputActivation);
        Loss lossFn = Loss.parse(loss);
        if (lossFn == Loss.SOFTMAX_CROSS_ENTROPY && last != Activation.IDENTITY) {
            throw new IllegalArgumentException("--loss softmax-ce takes logits: --output-activation must be identity, not "
                    + last.fileName() + " (grad would refuse the model)");
        }
        // The weights, and their bytes in the file being built.
        if (layers > 1) {
            Preflight.chain("--layers " + layers + " --width " + width, input, width, layers - 2L, output, 2);
        } else {
            Preflight.chain("--layers 1", input, output, 0, output, 1);
        }
        if (data != null) {
            Preflight.dataset("--batch " + batch, batch, (long) input + output, 2);
        }
        Network.Builder b = Network.builder(input);
        if (layers > 1) {
            b.dense(layers - 1, width, hidden);
        }
        Network net = b.dense(output, last).build(seed);
        ModelFile.save(net, out);
        spec.commandLine().getOut().println("wrote " + out + ": " + net);
        if (data != null) {
            float[] x = new float[batch * input];
            for (int i = 0; i < x.length; i++) {
                x[i] = 2f * Seeds.uniform(seed, -11, i) - 1f;
            }
            Batch bt;
            if (lossFn != Loss.SOFTMAX_CROSS_ENTROPY) {
                float[] y = new float[batch * output];
                for (int i = 0; i < y.length; i++) {
                    y[i] = 2f * Seeds.uniform(seed, -12, i) - 1f;
                }
                bt = Batch.regression(x, input, y, output);
            } else {
                int[] labels = new int[batch];
                for (int i = 0; i < batch; i++) {
                    labels[i] = (int) Long.remainderUnsigned(Seeds.bits(seed, -13, i), output);
                }
                bt = Batch.classification(x, input, labels);
            }
            ModelFile.saveData(bt, data);
            spec.commandLine().getOut().println("wrote " + data + ": " + batch + " samples for " + lossFn.cliName());
        }
        return 0;
    }
}
