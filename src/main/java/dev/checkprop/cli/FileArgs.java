package dev.checkprop.cli;

import dev.checkprop.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A command's file arguments, checked together before any work starts: every input exists and is a
 * readable file, every output can be written (its directory exists and accepts a new file), and no
 * output is the same file as an input or as another output. Outputs are written atomically
 * ({@link AtomicFiles}), so an output equal to an input would otherwise silently replace it.
 */
final class FileArgs {

    private record Arg(String option, Path path) {
    }

    private final List<Arg> inputs = new ArrayList<>();
    private final List<Arg> outputs = new ArrayList<>();

    /** Adds an input file given with {@code option}; null paths (option not given) are ignored. */
    FileArgs in(String option, Path path) {
        if (path != null) {
            inputs.add(new Arg(option, path));
        }
        return this;
    }

    /** Adds an output file given with {@code option}; null paths (option not given) are ignored. */
    FileArgs out(String option, Path path) {
        if (path != null) {
            outputs.add(new Arg(option, path));
        }
        return this;
    }

    /**
     * Checks every file argument.
     *
     * @throws IllegalArgumentException naming the option and the file at fault
     */
    void check() {
        for (Arg a : inputs) {
            checkInput(a);
        }
        for (Arg o : outputs) {
            checkOutput(o);
        }
        for (int i = 0; i < outputs.size(); i++) {
            Arg o = outputs.get(i);
            for (Arg in : inputs) {
                if (same(o.path(), in.path())) {
                    throw new IllegalArgumentException(o.option() + " " + o.path() + " is the same file as " + in.option()
                            + " " + in.path() + ": writing it would destroy the input; choose another " + o.option());
                }
            }
            for (int j = 0; j < i; j++) {
                Arg p = outputs.get(j);
                if (same(o.path(), p.path())) {
                    throw new IllegalArgumentException(o.option() + " " + o.path() + " is the same file as " + p.option()
                            + " " + p.path() + ": one would overwrite the other; give them different files");
                }
            }
        }
    }

    private static void checkInput(Arg a) {
        Path p = a.path();
        if (!Files.exists(p)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": no such file");
        }
        if (Files.isDirectory(p)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": is a directory, not a file");
        }
        if (!Files.isRegularFile(p)) {
            // FIFOs and devices can block forever or never end: refuse them rather than hang.
            throw new IllegalArgumentException(a.option() + " " + p + ": is not a regular file");
        }
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": cannot be read (permission denied)");
        }
    }

    private static void checkOutput(Arg a) {
        Path p = a.path();
        Path abs = p.toAbsolutePath();
        if (abs.getFileName() == null) {
            throw new IllegalArgumentException(a.option() + " " + p + ": is not a file name");
        }
        if (Files.isDirectory(p)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": is a directory; give a file name");
        }
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(p) && !Files.isRegularFile(p)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": exists and is not a regular file");
        }
        Path dir = abs.getParent();
        if (Files.isSymbolicLink(p)) {
            try {
                dir = p.toRealPath().getParent();
            } catch (IOException e) {
                throw new IllegalArgumentException(a.option() + " " + p + ": is a symbolic link to a missing file");
            }
        }
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(a.option() + " " + p + ": " + dir + " is not a directory");
        }
        // Probe with a real file rather than trusting permission bits: read-only mounts, quotas and
        // root's bypass of the bits all show only when a file is created.
        Path probe = null;
        try {
            probe = Files.createFile(dir.resolve(AtomicFiles.probeName(abs).getFileName()));
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException(a.option() + " " + p + ": cannot create files in directory " + dir
                    + (e instanceof IOException io ? " (" + AtomicFiles.reason(io) + ")" : ""));
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // an empty probe file is harmless
                }
            }
        }
    }

    /** Whether two paths name one file: same real path, or (both existing) the same inode. */
    static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
            return identity(a).equals(identity(b));
        } catch (IOException e) {
            return false;
        }
    }

    private static Path identity(Path p) throws IOException {
        if (Files.exists(p)) {
            return p.toRealPath();
        }
        Path abs = p.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        return parent != null && Files.exists(parent) ? parent.toRealPath().resolve(abs.getFileName()) : abs;
    }
}
