package dev.checkprop.cli;

import dev.checkprop.diag.Diagnosis;
import dev.checkprop.exec.Executor;
import dev.checkprop.io.ModelFile;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code diagnose}: dead units, dead layers, zero columns and gradient norms of a model on a batch. */
@Command(name = "diagnose", mixinStandardHelpOptions = true,
        description = "Per layer: dead units, dead layers, zero columns of W^(l+1), gradient norms.")
final class DiagnoseCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--data", required = true, description = "data safetensors file")
    Path data;

    @Option(names = "--loss", required = true, description = "mse, mse-mean (torch.nn.MSELoss) or softmax-ce")
    String loss;

    @Option(names = "--plan", defaultValue = "sqrt", description = "checkpoint plan (default: ${DEFAULT-VALUE}; the findings do not depend on it)")
    String plan;

    @Option(names = "--report", description = "write the findings as JSON here (dead unit indices, zero columns, norms)")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        new FileArgs().in("--model", model).in("--data", data).out("--report", report).check();
        Loss lossFn = Loss.parse(loss);
        String planSpec = plan.trim().toLowerCase(java.util.Locale.ROOT);
        if (!planSpec.equals("auto") && !planSpec.startsWith("budget:")) {
            Planners.parse(plan); // an unknown plan is refused before any file is read
        }
        Network net = ModelFile.load(model);
        Batch batch = Inputs.batchFor(net, model, data, lossFn);
        Conversions.note(spec.commandLine().getOut(), model, data);
        Diagnosis d;
        // The same pre-flight check as grad: a plan too big for the heap is refused with its figures.
        dev.checkprop.select.PlanSelection.Selection sel = dev.checkprop.select.PlanSelection.select(plan, net, batch.size(),
                batch.labels() != null, new long[0]);
        if (sel.microBatches() > 1) {
            throw new IllegalStateException("diagnose does not split batches: " + sel.explanation()
                    + "; use a smaller batch or a larger -Xmx");
        }
        dev.checkprop.memory.HeapBudget.check(sel.plan().name(), sel.predicted());
        try (Executor ex = new Executor(net, sel.plan(), batch.size(), Kernels.get(),
                Runtime.getRuntime().availableProcessors())) {
            d = Diagnosis.run(ex, batch, lossFn, Gradients.zerosLike(net));
        }
        var out = spec.commandLine().getOut();
        out.print(d.toTable());
        out.printf("%d of %d layers dead%s%n", d.deadLayers().size(), net.depth(),
                d.deadLayers().isEmpty() ? "" : ": backpropagation stops at layer "
                        + d.deadLayers().get(d.deadLayers().size() - 1).layer());
        if (report != null) {
            Reports.write(d.toMap(), report);
        }
        return 0;
    }
}
