#include "ui/methods_box.h"

#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

namespace respo::ui {
namespace {

constexpr int kSettingsRole = Qt::UserRole + 1;  // the SLD spec of a custom entry

QString sldLabel(const QString& preset) {
  return preset.isEmpty() ? QObject::tr("SLD off") : QObject::tr("SLD %1").arg(preset);
}

bool chooseData(QComboBox* box, const QString& data) {
  const int index = box->findData(data);
  if (index < 0) return false;
  box->setCurrentIndex(index);
  return true;
}

}  // namespace

MethodsBox::MethodsBox(QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  auto makeSld = [this](const QString& name) {
    auto* box = new QComboBox(this);
    box->setObjectName(name);
    box->addItem(sldLabel({}), QString());
    for (const auto& preset : respo::pipeline::SafeLatentGuidance::presetNames())
      box->addItem(sldLabel(QString::fromStdString(preset)), QString::fromStdString(preset));
    box->setToolTip(tr("Safe Latent Diffusion: guidance away from unsafe content (the paper's presets; needs CFG > 1)"));
    connect(box, &QComboBox::activated, this, &MethodsBox::edited);
    return box;
  };
  auto makeEdit = [this](const QString& name) {
    auto* box = new QComboBox(this);
    box->setObjectName(name);
    box->setToolTip(tr("A concept edit (closed-form cross-attention edit, UCE family) from the edits folder of "
                       "the concept library; made with `respodiff edit-concepts`"));
    connect(box, &QComboBox::activated, this, &MethodsBox::edited);
    return box;
  };
  auto makeText = [this](const QString& name, const QString& placeholder, const QString& tip) {
    auto* box = new QLineEdit(this);
    box->setObjectName(name);
    box->setPlaceholderText(placeholder);
    box->setToolTip(tip);
    connect(box, &QLineEdit::editingFinished, this, [this, box] {
      if (box->isModified()) {
        box->setModified(false);
        Q_EMIT edited();
      }
    });
    return box;
  };
  const QString negativeTip = tr("The negative-prompt method: words added to this side's negative prompt");
  const QString promptTip = tr("Prompt editing: words added to this side's prompt");
  leftNegative_ = makeText("negative:left", tr("+ negative prompt"), negativeTip);
  rightNegative_ = makeText("negative:right", tr("+ negative prompt"), negativeTip);
  leftPrompt_ = makeText("prompt:left", tr("+ prompt"), promptTip);
  rightPrompt_ = makeText("prompt:right", tr("+ prompt"), promptTip);
  leftSld_ = makeSld("sld:left");
  rightSld_ = makeSld("sld:right");
  leftEdit_ = makeEdit("edit:left");
  rightEdit_ = makeEdit("edit:right");
  grid->addWidget(new QLabel(tr("Left"), this), 0, 0);
  grid->addWidget(leftSld_, 0, 1);
  grid->addWidget(leftEdit_, 0, 2);
  grid->addWidget(leftNegative_, 1, 1);
  grid->addWidget(leftPrompt_, 1, 2);
  grid->addWidget(new QLabel(tr("Right"), this), 2, 0);
  grid->addWidget(rightSld_, 2, 1);
  grid->addWidget(rightEdit_, 2, 2);
  grid->addWidget(rightNegative_, 3, 1);
  grid->addWidget(rightPrompt_, 3, 2);
  grid->setColumnStretch(2, 1);
  setEdits({});
}

void MethodsBox::fillEdits(QComboBox* box) {
  const QString current = box->currentData().toString();
  const QSignalBlocker block(box);
  box->clear();
  box->addItem(tr("No concept edit"), QString());
  for (const auto& e : edits_)
    if (e.problem.empty())
      box->addItem(tr("Edit: %1 (%2)").arg(QString::fromStdString(e.name), QString::fromStdString(e.method)),
                   QString::fromStdString(e.file.string()));
  box->setCurrentIndex(std::max(0, box->findData(current)));
}

void MethodsBox::setEdits(const std::vector<respo::responsible::EditInfo>& edits) {
  edits_ = edits;
  fillEdits(leftEdit_);
  fillEdits(rightEdit_);
}

respo::responsible::SideMethods MethodsBox::methods(Side side) const {
  respo::responsible::SideMethods out;
  const auto* sld = sldBox(side);
  const QString preset = sld->currentData().toString();
  const QString custom = sld->currentData(kSettingsRole).toString();
  if (!custom.isEmpty())
    out.sld = respo::pipeline::SafeLatentGuidance::parse(custom.toStdString());
  else if (!preset.isEmpty())
    out.sld = respo::pipeline::SafeLatentGuidance::preset(preset.toStdString());
  out.conceptEdit = editBox(side)->currentData().toString().toStdString();
  out.negativeText = negativeBox(side)->text().trimmed().toStdString();
  out.promptText = promptBox(side)->text().trimmed().toStdString();
  return out;
}

bool MethodsBox::chooseSld(Side side, const QString& preset) {
  if (!chooseData(sldBox(side), preset)) return false;
  Q_EMIT edited();
  return true;
}

bool MethodsBox::chooseEdit(Side side, const QString& file) {
  if (!chooseData(editBox(side), file)) return false;
  Q_EMIT edited();
  return true;
}

void MethodsBox::setTexts(Side side, const QString& negative, const QString& prompt) {
  negativeBox(side)->setText(negative);
  promptBox(side)->setText(prompt);
  Q_EMIT edited();
}

QStringList MethodsBox::applyRecord(Side side, const respo::responsible::SideRecord& record) {
  QStringList notes;
  negativeBox(side)->setText(QString::fromStdString(record.negativeText));
  promptBox(side)->setText(QString::fromStdString(record.promptText));
  auto* sld = sldBox(side);
  {
    const QSignalBlocker block(sld);
    // A custom entry from an earlier restore goes; a new one is added when the settings are no preset.
    for (int i = sld->count() - 1; i >= 0; --i)
      if (!sld->itemData(i, kSettingsRole).toString().isEmpty()) sld->removeItem(i);
    if (!record.sld) {
      sld->setCurrentIndex(0);
    } else if (const auto preset = record.sld->presetName(); !preset.empty() &&
                                                             record.sld->safetyConcept == respo::pipeline::kDefaultSafetyConcept) {
      sld->setCurrentIndex(sld->findData(QString::fromStdString(preset)));
    } else {
      sld->addItem(tr("SLD custom (%1)").arg(QString::fromStdString(record.sld->spec()).left(60)), QStringLiteral("custom"));
      sld->setItemData(sld->count() - 1, QString::fromStdString(record.sld->spec()), kSettingsRole);
      sld->setCurrentIndex(sld->count() - 1);
    }
  }
  auto* edit = editBox(side);
  const QSignalBlocker block(edit);
  edit->setCurrentIndex(0);
  if (!record.editName.empty()) {
    const respo::responsible::EditInfo* found = nullptr;
    for (const auto& e : edits_) {
      if (!e.problem.empty()) continue;
      const bool hashMatches = !record.editHash.empty() && e.fileHash.rfind(record.editHash, 0) == 0;
      if (hashMatches || (record.editHash.empty() && e.name == record.editName)) {
        found = &e;
        break;
      }
    }
    if (found)
      edit->setCurrentIndex(std::max(0, edit->findData(QString::fromStdString(found->file.string()))));
    else
      notes << tr("the concept edit '%1'%2 is not installed")
                   .arg(QString::fromStdString(record.editName),
                        record.editHash.empty() ? QString() : tr(" (hash %1)").arg(QString::fromStdString(record.editHash)));
  }
  return notes;
}

}  // namespace respo::ui
