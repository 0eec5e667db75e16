//===- Polynomial.cpp - LP-Fusion's algebra -------------------------------===//
#include "Polynomial.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace canao::poly;

const char *canao::poly::funcName(Func f) {
  switch (f) {
  case Func::Erf:
    return "erf";
  case Func::Tanh:
    return "tanh";
  case Func::Sqrt:
    return "sqrt";
  case Func::Rsqrt:
    return "rsqrt";
  case Func::Exp:
    return "exp";
  case Func::Sigmoid:
    return "sigmoid";
  case Func::Relu:
    return "relu";
  }
  return "?";
}

std::string canao::poly::formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

//===----------------------------------------------------------------------===//
// Polynomial
//===----------------------------------------------------------------------===//

Polynomial Polynomial::constant(double c) {
  Polynomial p;
  if (c != 0)
    p.terms[{}] = c;
  return p;
}

Polynomial Polynomial::atom(int id) {
  Polynomial p;
  p.terms[{{id, 1}}] = 1;
  return p;
}

bool Polynomial::isConstant() const {
  return terms.empty() || (terms.size() == 1 && terms.begin()->first.empty());
}

double Polynomial::constantValue() const {
  auto it = terms.find({});
  return it == terms.end() ? 0 : it->second;
}

Polynomial Polynomial::operator+(const Polynomial &o) const {
  Polynomial r = *this;
  for (const auto &[m, c] : o.terms) {
    double &v = r.terms[m];
    v += c;
    if (v == 0)
      r.terms.erase(m);
  }
  return r;
}

static Monomial multiply(const Monomial &a, const Monomial &b) {
  Monomial r;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first))
      r.push_back(a[i++]);
    else if (i == a.size() || b[j].first < a[i].first)
      r.push_back(b[j++]);
    else {
      r.push_back({a[i].first, a[i].second + b[j].second});
      ++i;
      ++j;
    }
  }
  return r;
}

Polynomial Polynomial::operator*(const Polynomial &o) const {
  Polynomial r; // distributivity: every term times every term
  for (const auto &[ma, ca] : terms)
    for (const auto &[mb, cb] : o.terms) {
      Monomial m = multiply(ma, mb);
      double &v = r.terms[m];
      v += ca * cb;
      if (v == 0)
        r.terms.erase(m);
    }
  return r;
}

Polynomial Polynomial::scaled(double c) const {
  if (c == 0)
    return Polynomial();
  Polynomial r = *this;
  for (auto &[m, v] : r.terms)
    v *= c;
  return r;
}

Monomial Polynomial::commonFactor() const {
  if (terms.empty())
    return {};
  Monomial common = terms.begin()->first;
  for (const auto &[m, c] : terms) {
    Monomial next;
    for (auto [atom, power] : common) {
      auto it = std::find_if(m.begin(), m.end(),
                             [&](auto &p) { return p.first == atom; });
      if (it != m.end())
        next.push_back({atom, std::min(power, it->second)});
    }
    common = next;
  }
  return common;
}

Polynomial Polynomial::dividedBy(const Monomial &d) const {
  Polynomial r;
  for (const auto &[m, c] : terms) {
    Monomial q;
    for (auto [atom, power] : m) {
      auto it = std::find_if(d.begin(), d.end(),
                             [&](auto &p) { return p.first == atom; });
      int left = power - (it == d.end() ? 0 : it->second);
      if (left > 0)
        q.push_back({atom, left});
    }
    r.terms[q] += c;
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Algebra
//===----------------------------------------------------------------------===//

/// Folds a constant denominator into the numerator (strength reduction:
/// division by a constant is multiplication by its reciprocal).
static Rational normalize(Rational r) {
  if (r.den.isConstant() && !r.den.isZero()) {
    double d = r.den.constantValue();
    r.num = r.num.scaled(1.0 / d);
    r.den = Polynomial::constant(1);
  }
  if (r.num.isZero())
    r.den = Polynomial::constant(1);
  return r;
}

int Algebra::intern(AtomInfo info) {
  auto it = index_.find(info.key);
  if (it != index_.end())
    return it->second;
  atoms_.push_back(std::move(info));
  index_[atoms_.back().key] = atoms_.size() - 1;
  return atoms_.size() - 1;
}

Rational Algebra::constant(double c) const {
  Rational r;
  r.num = Polynomial::constant(c);
  return r;
}

Rational Algebra::input(int index) {
  AtomInfo info;
  info.input = index;
  info.key = "in" + std::to_string(index);
  Rational r;
  r.num = Polynomial::atom(intern(info));
  return r;
}

Rational Algebra::apply(Func f, const Rational &arg) {
  // Fold functions of constants.
  if (arg.num.isConstant() && arg.isPolynomial()) {
    double x = arg.num.constantValue();
    switch (f) {
    case Func::Erf:
      return constant(std::erf(x));
    case Func::Tanh:
      return constant(std::tanh(x));
    case Func::Sqrt:
      return constant(std::sqrt(x));
    case Func::Rsqrt:
      return constant(1 / std::sqrt(x));
    case Func::Exp:
      return constant(std::exp(x));
    case Func::Sigmoid:
      return constant(1 / (1 + std::exp(-x)));
    case Func::Relu:
      return constant(x > 0 ? x : 0);
    }
  }
  AtomInfo info;
  info.isInput = false;
  info.func = f;
  info.arg = arg;
  info.key = std::string(funcName(f)) + "(" + str(arg) + ")";
  Rational r;
  r.num = Polynomial::atom(intern(info));
  return r;
}

Rational Algebra::add(const Rational &a, const Rational &b) const {
  Rational r;
  if (a.den.terms == b.den.terms) {
    r.num = a.num + b.num;
    r.den = a.den;
  } else {
    r.num = a.num * b.den + b.num * a.den;
    r.den = a.den * b.den;
  }
  return normalize(r);
}

Rational Algebra::neg(const Rational &a) const {
  Rational r = a;
  r.num = r.num.scaled(-1);
  return r;
}

Rational Algebra::sub(const Rational &a, const Rational &b) const {
  return add(a, neg(b));
}

Rational Algebra::mul(const Rational &a, const Rational &b) const {
  Rational r;
  r.num = a.num * b.num;
  r.den = a.den * b.den;
  return normalize(r);
}

Rational Algebra::div(const Rational &a, const Rational &b) {
  Rational r;
  r.num = a.num * b.den;
  r.den = a.den * b.num;
  // 1/sqrt(e) is rsqrt(e): a denominator that is exactly c*sqrt(e) becomes
  // a factor rsqrt(e)/c of the numerator.
  if (r.den.terms.size() == 1) {
    const auto &[m, c] = *r.den.terms.begin();
    if (m.size() == 1 && m[0].second == 1 && !atoms_[m[0].first].isInput &&
        atoms_[m[0].first].func == Func::Sqrt) {
      Rational rs = apply(Func::Rsqrt, atoms_[m[0].first].arg);
      Rational out;
      out.num = r.num.scaled(1.0 / c) * rs.num;
      return out;
    }
  }
  return normalize(r);
}

bool Algebra::pow(const Rational &a, double exponent, Rational &out) {
  if (exponent == 0.5) {
    out = apply(Func::Sqrt, a);
    return true;
  }
  if (exponent == -0.5) {
    out = apply(Func::Rsqrt, a);
    return true;
  }
  if (exponent != std::floor(exponent) || std::fabs(exponent) > 8)
    return false;
  Rational r = constant(1);
  for (int i = 0; i < std::abs(static_cast<int>(exponent)); ++i)
    r = mul(r, a); // x^2 is x*x
  out = exponent < 0 ? div(constant(1), r) : r;
  return true;
}

std::string Algebra::str(const Polynomial &p) const {
  if (p.terms.empty())
    return "0";
  std::string s;
  for (const auto &[m, c] : p.terms) {
    if (!s.empty())
      s += " + ";
    std::string term;
    if (m.empty() || c != 1)
      term = formatNumber(c);
    for (auto [atom, power] : m)
      for (int i = 0; i < power; ++i)
        term += (term.empty() ? "" : "*") +
                (atoms_[atom].isInput ? "a" + std::to_string(atoms_[atom].input)
                                      : atoms_[atom].key);
    s += term;
  }
  return s;
}

std::string Algebra::str(const Rational &r) const {
  if (r.isPolynomial())
    return str(r.num);
  return "(" + str(r.num) + ")/(" + str(r.den) + ")";
}

double Algebra::evalAtom(int id, const std::vector<double> &inputs,
                         std::vector<double> &cache,
                         std::vector<bool> &done) const {
  if (done[id])
    return cache[id];
  const AtomInfo &a = atoms_[id];
  double v = 0;
  if (a.isInput) {
    v = inputs.at(a.input);
  } else {
    double x = eval(a.arg.num, inputs, cache, done) /
               eval(a.arg.den, inputs, cache, done);
    switch (a.func) {
    case Func::Erf:
      v = std::erf(x);
      break;
    case Func::Tanh:
      v = std::tanh(x);
      break;
    case Func::Sqrt:
      v = std::sqrt(x);
      break;
    case Func::Rsqrt:
      v = 1 / std::sqrt(x);
      break;
    case Func::Exp:
      v = std::exp(x);
      break;
    case Func::Sigmoid:
      v = 1 / (1 + std::exp(-x));
      break;
    case Func::Relu:
      v = x > 0 ? x : 0;
      break;
    }
  }
  done[id] = true;
  cache[id] = v;
  return v;
}

double Algebra::eval(const Polynomial &p, const std::vector<double> &inputs,
                     std::vector<double> &cache,
                     std::vector<bool> &done) const {
  double sum = 0;
  for (const auto &[m, c] : p.terms) {
    double t = c;
    for (auto [atom, power] : m)
      t *= std::pow(evalAtom(atom, inputs, cache, done), power);
    sum += t;
  }
  return sum;
}

double Algebra::eval(const Rational &r,
                     const std::vector<double> &inputs) const {
  std::vector<double> cache(atoms_.size());
  std::vector<bool> done(atoms_.size(), false);
  return eval(r.num, inputs, cache, done) / eval(r.den, inputs, cache, done);
}
