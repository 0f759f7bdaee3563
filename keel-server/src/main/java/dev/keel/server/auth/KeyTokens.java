package dev.keel.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * Issues and checks bearer tokens of the form {@code keel_<id>_<secret>}: the id finds the stored
 * key, and the SHA-256 of the whole token is compared in constant time. The secret has 256 random
 * bits, so a plain (unsalted) hash is enough.
 */
public final class KeyTokens {
  private static final String PREFIX = "keel_";
  private static final String ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyTokens() {}

  /** Issues a new key for {@code tenant} and saves its hash in {@code keys}. */
  public static IssuedKey issue(
      ApiKeys keys, String tenant, Role role, Set<Scope> scopes, Instant now) {
    if (!tenant.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw new IllegalArgumentException(
          "tenant '" + tenant + "' must be 1-64 letters, digits, '.', '_' or '-'");
    }
    StringBuilder idPart = new StringBuilder(16);
    for (int i = 0; i < 16; i++) {
      idPart.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String token =
        PREFIX + idPart + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    ApiKey key = new ApiKey("key_" + idPart, tenant, role, scopes, sha256(token), now);
    keys.save(key);
    return new IssuedKey(key, token);
  }

  /** The stored key {@code token} proves, if the token is well-formed and matches. */
  public static Optional<ApiKey> authenticate(ApiKeys keys, String token) {
    if (!token.startsWith(PREFIX) || token.length() > 200) {
      return Optional.empty();
    }
    int sep = token.indexOf('_', PREFIX.length());
    if (sep < 0) {
      return Optional.empty();
    }
    String id = "key_" + token.substring(PREFIX.length(), sep);
    Optional<ApiKey> key = keys.find(id);
    byte[] presented = sha256(token).getBytes(StandardCharsets.US_ASCII);
    byte[] stored =
        key.map(k -> k.secretHash().getBytes(StandardCharsets.US_ASCII))
            .orElse(new byte[presented.length]);
    boolean equal = MessageDigest.isEqual(presented, stored);
    return equal ? key : Optional.empty();
  }

  /** Hex SHA-256 of {@code text} in UTF-8. */
  public static String sha256(String text) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException x) {
      throw new IllegalStateException("the JDK has no SHA-256", x);
    }
  }
}
