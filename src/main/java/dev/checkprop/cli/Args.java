package dev.checkprop.cli;

/** Range checks of numeric options shared by several commands; each names the option and its limit. */
final class Args {

    /** Most timed steps {@code grad --repeat} runs: each keeps its time for the median. */
    static final int MAX_REPEAT = 100_000;

    /** Most threads an executor is given: more than this only adds waiting (and native memory per thread). */
    static final int MAX_THREADS = 1024;

    private Args() {
    }

    /** The thread count: the option's value if given (checked), else every core. */
    /** The help text of every command's {@code --spill-dir}. */
    static final String SPILL_DIR_HELP = "directory for the disk tier's spill files, in a run directory of their own"
            + " deleted at the end (default: java.io.tmpdir); only plans that write to disk use it (docs/tiers.md)";

    /**
     * Answers the spill directory: {@code dir}, or the default when not given; a given one must be an
     * existing, writable directory (checked before any work, as file arguments are).
     *
     * @throws IllegalArgumentException naming the option, the path and what is wrong
     */
    static java.nio.file.Path spillDir(java.nio.file.Path dir) {
        if (dir == null) {
            return dev.checkprop.exec.Executor.defaultSpillDirectory();
        }
        if (!java.nio.file.Files.exists(dir)) {
            throw new IllegalArgumentException("--spill-dir " + dir + ": no such directory");
        }
        if (!java.nio.file.Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--spill-dir " + dir + ": is a file, not a directory");
        }
        if (!java.nio.file.Files.isWritable(dir)) {
            throw new IllegalArgumentException("--spill-dir " + dir + ": is not writable");
        }
        return dir;
    }

    static int threads(Integer threads) {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("--threads must be between 1 and " + MAX_THREADS + ", got " + threads);
        }
        return threads;
    }

    /**
     * Refuses input files that together cannot be held: each file's bytes once loaded (times
     * {@code copies[i]} for files copied on reading, like a direction into gradient-shaped arrays),
     * before the first is read. Each reader checks its own file too; this catches the sum.
     */
    static void filesFit(String[] options, java.nio.file.Path[] files, int[] copies) throws java.io.IOException {
        double bytes = 0;
        StringBuilder what = new StringBuilder();
        for (int i = 0; i < files.length; i++) {
            long size = java.nio.file.Files.size(files[i]);
            bytes += (double) size * copies[i];
            what.append(i == 0 ? "" : i == files.length - 1 ? " and " : ", ").append(options[i]).append(' ')
                    .append(files[i]).append(" (").append(dev.checkprop.memory.HeapBudget.human(size))
                    .append(copies[i] > 1 ? ", held " + copies[i] + " times" : "").append(')');
        }
        dev.checkprop.memory.Preflight.heap(what.toString(), bytes, "give a larger -Xmx");
    }

    /** Checks {@code grad --repeat} and {@code --warmup}. */
    static void repeat(int repeat, int warmup) {
        if (repeat < 1 || repeat > MAX_REPEAT) {
            throw new IllegalArgumentException("--repeat must be between 1 and " + MAX_REPEAT + ", got " + repeat);
        }
        if (warmup < 0 || warmup > MAX_REPEAT) {
            throw new IllegalArgumentException("--warmup must be between 0 and " + MAX_REPEAT + ", got " + warmup);
        }
    }
}
