package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.torch.Architecture;
import dev.checkprop.torch.TorchBridge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code import-torch}: a torch.nn.Sequential state_dict (safetensors) and its architecture to a model file. */
@Command(name = "import-torch", mixinStandardHelpOptions = true,
        description = {"Convert a torch.nn.Sequential state_dict saved with safetensors.torch.save_file to a checkprop model.",
            "ARCH lists the Sequential's modules: linear[:tanh|relu|sigmoid|gelu], tanh, relu, sigmoid, gelu, identity,"
                    + " layernorm[:EPS], dropout[:P], each optionally *COUNT, separated by commas;"
                    + " e.g. linear:tanh,linear:tanh,linear (keys 0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias).",
            "F16, BF16 and F64 tensors are converted to F32. See docs/pytorch.md."})
final class ImportTorchCommand implements Callable<Integer> {

    @Option(names = "--state-dict", required = true, description = "the state_dict as a safetensors file")
    Path stateDict;

    @Option(names = "--arch", required = true, description = "the Sequential's modules, e.g. linear:tanh,linear:tanh,linear")
    String arch;

    @Option(names = "--out", required = true, description = "checkprop model file to write")
    Path out;

    @Option(names = "--prefix", defaultValue = "", description = "prefix of every key, e.g. 'net.' for a Sequential held as model.net (default: none)")
    String prefix;

    @Option(names = "--dropout-seed", defaultValue = "0", description = "seed of the dropout layers' masks (default: ${DEFAULT-VALUE})")
    long dropoutSeed;

    @Option(names = "--report", description = "JSON report file to write (the key of every tensor, the conversions)")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        new FileArgs().in("--state-dict", stateDict).out("--out", out).out("--report", report).check();
        Architecture architecture = Architecture.parse(arch); // before any file is read
        Args.filesFit(new String[] {"--state-dict"}, new Path[] {stateDict}, new int[] {2});
        SafeTensors st = SafeTensors.readAsF32(stateDict);
        String converted = SafeTensors.describeConversions(st.conversions());
        TorchBridge.Imported imported = TorchBridge.fromStateDict(st, architecture, prefix, dropoutSeed, stateDict.toString());
        console.printf("read %s: %d tensors of %d modules (%s)%s%n", stateDict, st.names().size(),
                architecture.modules().size(), architecture, converted.isEmpty() ? "" : "; " + converted);
        ModelFile.save(imported.network(), out);
        console.printf("wrote %s: %s%n", out, imported.network());
        if (report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("state_dict", stateDict.toString());
            r.put("architecture", architecture.toString());
            r.put("modules", architecture.modules().size());
            r.put("model", out.toString());
            r.put("network", imported.network().toString());
            r.put("layers", imported.network().depth());
            r.put("parameters", imported.network().parameterCount());
            // checkprop tensor name -> torch key
            r.put("tensors", imported.names());
            Map<String, Integer> conversions = new LinkedHashMap<>();
            st.conversions().forEach((dtype, count) -> conversions.put(dtype.name(), count));
            r.put("converted_to_f32", conversions);
            r.put("conversion", converted);
            Reports.write(r, report);
        }
        return 0;
    }
}
