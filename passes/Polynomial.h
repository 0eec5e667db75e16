//===- Polynomial.h - LP-Fusion's algebra of element-wise chains -*- C++
//-*-===//
//
// A chain of element-wise ops is held as a rational function of *atoms* in
// canonical form: a sum of monomials (a coefficient times a product of atom
// powers) over another such sum. Atoms are the chain's tensor inputs and
// opaque functions of sub-expressions (erf, tanh, sqrt, ...), interned by a
// structural key so that equal sub-expressions are one atom.
//
// Canonicalization does constant folding, commutativity and associativity
// (sorted monomials), distributivity (products are expanded), and strength
// reduction: x^2 is x*x, division by a constant is a multiplication by its
// reciprocal, and 1/sqrt(e) is rsqrt(e).
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_PASSES_POLYNOMIAL_H
#define CANAO_PASSES_POLYNOMIAL_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace canao::poly {

enum class Func { Erf, Tanh, Sqrt, Rsqrt, Exp, Sigmoid, Relu };
const char *funcName(Func f);

/// Sorted (atom id, power >= 1) pairs; empty is the constant monomial 1.
using Monomial = std::vector<std::pair<int, int>>;

struct Polynomial {
  std::map<Monomial, double> terms; // no zero coefficients

  static Polynomial constant(double c);
  static Polynomial atom(int id);
  bool isConstant() const;
  bool isZero() const { return terms.empty(); }
  double constantValue() const; // the coefficient of the empty monomial
  Polynomial operator+(const Polynomial &o) const;
  Polynomial operator*(const Polynomial &o) const;
  Polynomial scaled(double c) const;
  /// The largest monomial dividing every term (min power per shared atom).
  Monomial commonFactor() const;
  Polynomial dividedBy(const Monomial &m) const;
};

/// num / den. A constant denominator is always folded into num.
struct Rational {
  Polynomial num = Polynomial::constant(0);
  Polynomial den = Polynomial::constant(1);

  bool isPolynomial() const {
    return den.isConstant() && den.constantValue() == 1.0;
  }
};

class Algebra {
public:
  struct AtomInfo {
    bool isInput = true;
    int input = -1; // for inputs: index into the chain's inputs
    Func func = Func::Erf;
    Rational arg;    // for functions
    std::string key; // structural key
  };

  Rational constant(double c) const;
  Rational input(int index);
  Rational apply(Func f, const Rational &arg);

  Rational add(const Rational &a, const Rational &b) const;
  Rational sub(const Rational &a, const Rational &b) const;
  Rational mul(const Rational &a, const Rational &b) const;
  Rational div(const Rational &a, const Rational &b);
  Rational neg(const Rational &a) const;
  /// Integer powers stay algebraic; 0.5 and -0.5 become sqrt / rsqrt.
  /// Returns false for other exponents.
  bool pow(const Rational &a, double exponent, Rational &out);

  const std::vector<AtomInfo> &atoms() const { return atoms_; }
  /// Canonical text, e.g. "0.5*a0 + 0.5*a0*erf(0.707107*a0)".
  std::string str(const Rational &r) const;
  /// Reference evaluation (double precision) for tests.
  double eval(const Rational &r, const std::vector<double> &inputs) const;
  /// Number of distinct atoms (inputs and function applications).
  size_t numAtoms() const { return atoms_.size(); }

private:
  int intern(AtomInfo info);
  std::string str(const Polynomial &p) const;
  double eval(const Polynomial &p, const std::vector<double> &inputs,
              std::vector<double> &cache, std::vector<bool> &done) const;
  double evalAtom(int id, const std::vector<double> &inputs,
                  std::vector<double> &cache, std::vector<bool> &done) const;

  std::vector<AtomInfo> atoms_;
  std::map<std::string, int> index_;
};

/// Renders a double the same way everywhere (keys, tests, codegen).
std::string formatNumber(double v);

} // namespace canao::poly

#endif // CANAO_PASSES_POLYNOMIAL_H
