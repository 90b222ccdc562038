#pragma once
// The methods of each side of the comparison besides the concept panel's modules: Safe Latent
// Diffusion (off or one of its presets, or the custom settings of a restored picture) and a concept
// edit (UCE family) from the library's edits/ folders. The left side with no method is the plain
// model (the usual baseline); with one, two methods meet on one seed.
#include <QWidget>
#include <vector>

#include "core/respo/side_methods.h"

class QComboBox;
class QLineEdit;

namespace respo::ui {

class MethodsBox : public QWidget {
  Q_OBJECT
 public:
  enum class Side { Left, Right };
  explicit MethodsBox(QWidget* parent = nullptr);

  // The edits the edit boxes offer (files that read; the others are left out).
  void setEdits(const std::vector<respo::responsible::EditInfo>& edits);
  const std::vector<respo::responsible::EditInfo>& edits() const { return edits_; }
  respo::responsible::SideMethods methods(Side side) const;
  // Sets a side as a restored picture says; returns notes for what is not installed.
  QStringList applyRecord(Side side, const respo::responsible::SideRecord& record);
  // As a user's choice (emits edited()): an SLD preset name or "" for off; an edit by file ("" none).
  bool chooseSld(Side side, const QString& preset);
  bool chooseEdit(Side side, const QString& file);
  // The text methods: added to the side's negative prompt / prompt ("" none).
  void setTexts(Side side, const QString& negative, const QString& prompt);

 Q_SIGNALS:
  void edited();

 private:
  QComboBox* sldBox(Side side) const { return side == Side::Left ? leftSld_ : rightSld_; }
  QComboBox* editBox(Side side) const { return side == Side::Left ? leftEdit_ : rightEdit_; }
  void fillEdits(QComboBox* box);

  QLineEdit* negativeBox(Side side) const { return side == Side::Left ? leftNegative_ : rightNegative_; }
  QLineEdit* promptBox(Side side) const { return side == Side::Left ? leftPrompt_ : rightPrompt_; }

  QComboBox *leftSld_, *rightSld_, *leftEdit_, *rightEdit_;
  QLineEdit *leftNegative_, *rightNegative_, *leftPrompt_, *rightPrompt_;
  std::vector<respo::responsible::EditInfo> edits_;
};

}  // namespace respo::ui
