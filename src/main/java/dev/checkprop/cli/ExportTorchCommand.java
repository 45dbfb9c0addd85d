package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.io.Tensor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.torch.TorchBridge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code export-torch}: a checkprop model file to a torch.nn.Sequential state_dict (safetensors). */
@Command(name = "export-torch", mixinStandardHelpOptions = true,
        description = {"Write a checkprop model as the state_dict of the equivalent torch.nn.Sequential (F32 safetensors),"
                + " loadable with model.load_state_dict(safetensors.torch.load_file(FILE), strict=True).",
            "Prints the architecture and the Python that builds the Sequential. Residual blocks have no Sequential"
                    + " equivalent and are refused. See docs/pytorch.md."})
final class ExportTorchCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "checkprop model file")
    Path model;

    @Option(names = "--out", required = true, description = "state_dict safetensors file to write")
    Path out;

    @Option(names = "--prefix", defaultValue = "", description = "prefix of every key, e.g. 'net.' (default: none)")
    String prefix;

    @Option(names = "--inputs", description = "a data file (its x [N, n_0]) on which to compute the model's outputs, for checking in torch")
    Path inputs;

    @Option(names = "--outputs", description = "with --inputs: write x and the model's outputs [N, n_L] (inference: dropout off) here")
    Path outputs;

    @Option(names = "--report", description = "JSON report file to write (architecture, Python, the key of every tensor)")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Samples per inference step for --outputs. */
    private static final int CHUNK = 256;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        if ((inputs == null) != (outputs == null)) {
            throw new IllegalArgumentException("--inputs and --outputs go together: give both or neither");
        }
        new FileArgs().in("--model", model).in("--inputs", inputs).out("--out", out).out("--outputs", outputs)
                .out("--report", report).check();
        Network net = ModelFile.load(model);
        TorchBridge.Exported exported = TorchBridge.toStateDict(net, prefix);
        // The outputs first: a failure there leaves no file written.
        SafeTensors checks = null;
        int n = 0;
        if (inputs != null) {
            float[] x = inputs(net);
            n = x.length / net.inputWidth();
            checks = SafeTensors.builder().putF32("x", new long[] {n, net.inputWidth()}, x)
                    .putF32("outputs", new long[] {n, net.outputWidth()}, predict(net, x, n)).build();
        }
        exported.stateDict().write(out);
        console.printf("wrote %s: %d F32 tensors of torch.nn.Sequential %s%n", out, exported.stateDict().names().size(),
                exported.architecture());
        console.printf("load it with: model = %s; model.load_state_dict(safetensors.torch.load_file(\"%s\"), strict=True)%n",
                exported.python(), out);
        if (checks != null) {
            checks.write(outputs);
            console.printf("wrote %s: the model's outputs [%d, %d] on %s's x, to compare with model.eval()(x)%n",
                    outputs, n, net.outputWidth(), inputs);
        }
        if (report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("model", model.toString());
            r.put("state_dict", out.toString());
            r.put("architecture", exported.architecture().toString());
            r.put("modules", exported.architecture().modules().size());
            r.put("python", exported.python());
            r.put("tensors", exported.names());
            Reports.write(r, report);
        }
        return 0;
    }

    /** The x of --inputs, checked against the model (F16, BF16 and F64 converted, non-finite refused). */
    private float[] inputs(Network net) throws java.io.IOException {
        SafeTensors st = SafeTensors.readAsF32(inputs);
        if (!st.has("x")) {
            throw new SafeTensorsException(inputs + ": missing tensor x [N, n_0]");
        }
        Tensor t = st.tensor("x");
        if (t.rank() != 2 || t.dim(0) < 1 || t.dim(1) != net.inputWidth()) {
            throw new IllegalArgumentException(inputs + ": x must have shape [N, " + net.inputWidth() + "] for " + model
                    + ", got " + java.util.Arrays.toString(t.shape()));
        }
        float[] x = t.toFloatArray();
        for (int j = 0; j < x.length; j++) {
            if (!Float.isFinite(x[j])) {
                throw new SafeTensorsException(inputs + ": x[" + j / t.dim(1) + ", " + j % t.dim(1) + "] is " + x[j]
                        + ": values must be finite");
            }
        }
        return x;
    }

    /** a^L for every sample, row-major [n, n_L], in chunks, with the smallest plan (inference stores nothing). */
    private static float[] predict(Network net, float[] x, int n) {
        int chunk = Math.min(CHUNK, n);
        Plan plan = Planners.parse(net.depth() == 1 ? "full" : "optimal:2").plan(net.depth());
        int nL = net.outputWidth();
        float[] y = new float[Math.multiplyExact(n, nL)];
        float[] part = new float[chunk * nL];
        Batch all = Batch.regression(x, net.inputWidth(), new float[Math.multiplyExact(n, nL)], nL);
        try (Executor ex = new Executor(net, plan, chunk, Kernels.get(), Runtime.getRuntime().availableProcessors())) {
            for (int from = 0; from < n; from += chunk) {
                int to = Math.min(n, from + chunk);
                ex.predict(all.slice(from, to), part);
                System.arraycopy(part, 0, y, from * nL, (to - from) * nL);
            }
        }
        return y;
    }
}
