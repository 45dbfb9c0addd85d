package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Network;
import dev.checkprop.train.Training;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code predict}: a model's outputs for the inputs of a data file, written as safetensors. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Write a model's outputs for a data file's inputs (x) as safetensors: outputs [N, n_L] and, with --argmax, classes [N].")
final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--data", required = true, description = "safetensors file with x [N, n_0] (F32; F16, BF16 and F64 are converted; labels or y, if present, are ignored)")
    Path data;

    @Option(names = "--out", required = true, description = "write outputs F32 [N, n_L] here (safetensors)")
    Path out;

    @Option(names = "--argmax", description = "also write classes I32 [N], the index of each row's largest output")
    boolean argmax;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--report", description = "write a summary as JSON here")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        new FileArgs().in("--model", model).in("--data", data).out("--out", out).out("--report", report).check();
        Network net = ModelFile.load(model);
        // As every reader of inputs: F16, BF16 and F64 are converted to F32, and the console says so.
        SafeTensors st = SafeTensors.readAsF32(data);
        java.util.Map<String, String> conversions = Conversions.note(spec.commandLine().getOut(), model, data);
        if (!st.has("x")) {
            throw new SafeTensorsException(data + ": no tensor x (the inputs, F32 [N, n_0])");
        }
        Tensor x = st.tensor("x");
        if (x.rank() != 2 || x.dim(0) < 1 || x.dim(1) != net.inputWidth()) {
            throw new SafeTensorsException(data + ": x must have shape [N, " + net.inputWidth() + "] for " + model + ", got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        float[] inputs = x.toFloatArray();
        float[] outputs;
        int[] classes;
        try (Training t = Training.of(net).threads(Args.threads(threads))) {
            outputs = t.predict(inputs);
            classes = argmax ? t.classify(inputs) : null;
        }
        for (int j = 0; j < outputs.length; j++) {
            if (!Float.isFinite(outputs[j])) {
                throw new IllegalStateException("non-finite result: output [" + j / net.outputWidth() + ", "
                        + j % net.outputWidth() + "] is " + outputs[j] + " (the model overflows on this input); nothing was written");
            }
        }
        SafeTensors.Builder b = SafeTensors.builder().putF32("outputs", new long[] {n, net.outputWidth()}, outputs);
        if (classes != null) {
            b.putI32("classes", new long[] {n}, classes);
        }
        b.metadata("format", "checkprop").metadata("model", model.getFileName().toString());
        b.build().write(out);
        spec.commandLine().getOut().printf("%d samples: outputs [%d, %d]%s written to %s%n", n, n, net.outputWidth(),
                classes != null ? " and classes" : "", out);
        if (report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            if (!conversions.isEmpty()) {
                r.put("conversions", conversions);
            }
            r.put("samples", n);
            r.put("output_width", net.outputWidth());
            r.put("out", out.toString());
            Reports.write(r, report);
        }
        return 0;
    }
}
