package dev.checkprop.cli;

import dev.checkprop.io.SafeTensors;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Says which input files held F16, BF16 or F64 tensors that were converted to F32 on load, so a user
 * whose PyTorch or NumPy file was rounded learns it from the console and the report, not by surprise.
 */
final class Conversions {

    private Conversions() {
    }

    /**
     * Prints one line per safetensors file among {@code files} whose tensors are converted, and
     * answers them as file &rarr; phrase (empty when none is) for the report's {@code conversions}.
     * Null paths and files that are not safetensors (CSV, IDX) are skipped; the header alone is read.
     */
    static Map<String, String> note(PrintWriter console, Path... files) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Path f : files) {
            if (f == null || !f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")
                    || !Files.isRegularFile(f)) {
                continue;
            }
            try (SafeTensors.Reader r = SafeTensors.open(f)) {
                String phrase = SafeTensors.describeConversions(r.conversions());
                if (!phrase.isEmpty()) {
                    out.put(f.toString(), phrase);
                    console.printf("read %s: %s%n", f, phrase);
                }
            }
        }
        return out;
    }
}
