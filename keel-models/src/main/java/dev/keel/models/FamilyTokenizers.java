package dev.keel.models;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import dev.keel.model.Tokenizer;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * A real tokenizer per model family, for fitting context packs to a window.
 *
 * <ul>
 *   <li>OpenAI's {@code gpt-4o}, {@code gpt-4.1}, {@code gpt-5}, {@code o1}/{@code o3}/{@code o4}
 *       families: {@code o200k_base}, exact.
 *   <li>OpenAI's older {@code gpt-4}, {@code gpt-3.5} and {@code text-embedding} models: {@code
 *       cl100k_base}, exact.
 *   <li>Every other family (Anthropic, Gemini, Llama, Mistral, ...): their tokenizers are not
 *       published as BPE tables, so the count is {@code o200k_base} plus 25%, rounded up, plus 2
 *       tokens. This is an approximation with a safety margin, never a measurement; billing always
 *       uses the usage the provider reports.
 * </ul>
 */
public final class FamilyTokenizers {
  private FamilyTokenizers() {}

  private static final class Shared {
    static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    static final Encoding O200K = REGISTRY.getEncoding(EncodingType.O200K_BASE);
    static final Encoding CL100K = REGISTRY.getEncoding(EncodingType.CL100K_BASE);
  }

  /** The tokenizer for {@code model} (a provider's model name, such as {@code gpt-4o-mini}). */
  public static Tokenizer forModel(String model) {
    String m = model.toLowerCase(Locale.ROOT);
    int slash = m.lastIndexOf('/');
    if (slash >= 0) {
      m = m.substring(slash + 1);
    }
    if (m.startsWith("gpt-4o")
        || m.startsWith("chatgpt-4o")
        || m.startsWith("gpt-4.1")
        || m.startsWith("gpt-4.5")
        || m.startsWith("gpt-5")
        || m.matches("o[134](-.*)?")) {
      return exact("o200k_base", Shared.O200K);
    }
    if (m.startsWith("gpt-4") || m.startsWith("gpt-3.5") || m.startsWith("text-embedding")) {
      return exact("cl100k_base", Shared.CL100K);
    }
    return new Tokenizer() {
      @Override
      public String name() {
        return "o200k_base+25%";
      }

      @Override
      public int count(String text) {
        int n = Shared.O200K.countTokens(text);
        return n + (n + 3) / 4 + 2;
      }
    };
  }

  private static Tokenizer exact(String name, Encoding encoding) {
    return new Tokenizer() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int count(String text) {
        return encoding.countTokens(text);
      }
    };
  }

  /**
   * A tokenizer that counts with each of {@code tokenizers} and takes the largest count: for a call
   * that may reach any of several models (a fallback chain).
   */
  public static Tokenizer largestOf(Collection<Tokenizer> tokenizers) {
    List<Tokenizer> all = List.copyOf(tokenizers);
    if (all.size() == 1) {
      return all.getFirst();
    }
    String name =
        "max("
            + String.join(",", all.stream().map(Tokenizer::name).distinct().sorted().toList())
            + ")";
    return new Tokenizer() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int count(String text) {
        int n = 0;
        for (Tokenizer t : all) {
          n = Math.max(n, t.count(text));
        }
        return n;
      }
    };
  }
}
