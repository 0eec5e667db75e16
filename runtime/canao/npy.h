// npy.h - NumPy .npy (format 1.0) reading and writing for canao runners.
//
// Little-endian, C-order arrays of float32, int32, int64 and bool.
#ifndef CANAO_NPY_H
#define CANAO_NPY_H

#include "canao/canao_types.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace canao_rt {

struct NpyArray {
  canao_dtype dtype = CANAO_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

inline const char *npy_descr(canao_dtype t) {
  switch (t) {
  case CANAO_FLOAT32:
    return "<f4";
  case CANAO_INT32:
    return "<i4";
  case CANAO_INT64:
    return "<i8";
  case CANAO_BOOL:
    return "|b1";
  }
  return "?";
}

// Reads `path`; on failure returns false and sets `error` (one line).
inline bool read_npy(const std::string &path, NpyArray &out,
                     std::string &error) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  auto bad = [&](const std::string &why) {
    std::fclose(f);
    error = "'" + path + "' is not a supported .npy file: " + why;
    return false;
  };
  unsigned char pre[10];
  if (std::fread(pre, 1, 10, f) != 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0)
    return bad("bad magic");
  if (pre[6] != 1)
    return bad("only format version 1.0 is supported");
  size_t hlen = pre[8] | (pre[9] << 8);
  std::string header(hlen, '\0');
  if (std::fread(&header[0], 1, hlen, f) != hlen)
    return bad("truncated header");
  auto value = [&](const std::string &key) -> std::string {
    size_t k = header.find("'" + key + "'");
    if (k == std::string::npos)
      return "";
    size_t c = header.find(':', k);
    if (c == std::string::npos)
      return "";
    size_t s = header.find_first_not_of(' ', c + 1);
    if (s == std::string::npos)
      return "";
    if (header[s] == '(') {
      size_t e = header.find(')', s);
      return e == std::string::npos ? "" : header.substr(s, e - s + 1);
    }
    size_t e = header.find_first_of(",}", s);
    return header.substr(s, e == std::string::npos ? e : e - s);
  };
  std::string descr = value("descr"), order = value("fortran_order"),
              shape = value("shape");
  if (descr == "'<f4'")
    out.dtype = CANAO_FLOAT32;
  else if (descr == "'<i4'")
    out.dtype = CANAO_INT32;
  else if (descr == "'<i8'")
    out.dtype = CANAO_INT64;
  else if (descr == "'|b1'")
    out.dtype = CANAO_BOOL;
  else
    return bad("dtype " + descr + " (use float32, int32, int64 or bool)");
  if (order != "False")
    return bad("Fortran order");
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    return bad("malformed shape");
  out.shape.clear();
  size_t count = 1;
  for (size_t p = 1; p + 1 < shape.size();) {
    size_t q = shape.find_first_of(",)", p);
    std::string tok = shape.substr(p, q - p);
    tok.erase(0, tok.find_first_not_of(' '));
    if (!tok.empty()) {
      char *end = nullptr;
      long long d = std::strtoll(tok.c_str(), &end, 10);
      if (*end != '\0' || d < 0 || d > (1ll << 32))
        return bad("malformed shape");
      out.shape.push_back(d);
      count *= static_cast<size_t>(d);
      if (count > (size_t(1) << 34))
        return bad("array too large");
    }
    p = q + 1;
  }
  if (out.shape.size() > CANAO_MAX_RANK)
    return bad("rank above 8");
  out.data.resize(count * canao_dtype_size(out.dtype));
  if (std::fread(out.data.data(), 1, out.data.size(), f) != out.data.size())
    return bad("truncated data");
  std::fclose(f);
  return true;
}

inline bool write_npy(const std::string &path, canao_dtype dtype,
                      const int64_t *dims, int32_t rank, const void *data,
                      std::string &error) {
  std::string shape = "(";
  size_t count = 1;
  for (int32_t d = 0; d < rank; ++d) {
    shape += std::to_string(dims[d]) + (rank == 1      ? ","
                                        : d + 1 < rank ? ", "
                                                       : "");
    count *= static_cast<size_t>(dims[d]);
  }
  shape += ")";
  std::string header = "{'descr': '" + std::string(npy_descr(dtype)) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary, newline-terminated.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           static_cast<unsigned char>(header.size() & 0xff),
                           static_cast<unsigned char>(header.size() >> 8)};
  size_t bytes = count * canao_dtype_size(dtype);
  bool ok = std::fwrite(pre, 1, 10, f) == 10 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, 1, bytes, f) == bytes;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    error = "cannot write '" + path + "'";
  return ok;
}

} // namespace canao_rt

#endif // CANAO_NPY_H
