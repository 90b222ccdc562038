#include "ui/concept_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSlider>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>
#include <functional>

namespace respo::ui {

ConceptPanel::ConceptPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  model_ = new ConceptSelectionModel(this);
  view_ = new QTreeView(this);
  view_->setObjectName("conceptTree");
  view_->setModel(model_);
  view_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  view_->header()->setStretchLastSection(false);
  // The target column holds a short text ("30, 70"); the name column keeps the room.
  view_->header()->resizeSection(ConceptSelectionModel::TargetColumn, 80);
  view_->setRootIsDecorated(true);
  view_->setSelectionMode(QAbstractItemView::NoSelection);
  view_->setEditTriggers(QAbstractItemView::NoEditTriggers);  // strengths and policies have their own editors
  view_->setMinimumHeight(180);
  layout->addWidget(view_);
  empty_ = new QLabel(tr("No concept modules are installed. Train one with the concept wizard or "
                         "`respodiff train-concept`."), this);
  empty_->setObjectName("conceptsEmptyLabel");
  empty_->setWordWrap(true);
  layout->addWidget(empty_);
  connect(model_, &ConceptSelectionModel::edited, this, &ConceptPanel::conceptsEdited);
  setConcepts({});
}

void ConceptPanel::setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts) {
  // The old rows' editors go now: a model reset would only schedule their deletion, and until then
  // two sliders would answer to one name.
  for (const auto& editor : editors_) delete editor.data();
  editors_.clear();
  model_->setConcepts(concepts);
  buildEditors();
  // Sections without rows are hidden; everything else is open.
  for (int row = 0; row < model_->rowCount(); ++row)
    view_->setRowHidden(row, {}, model_->rowCount(model_->index(row, 0)) == 0);
  view_->expandAll();
  view_->setVisible(!concepts.empty());
  empty_->setVisible(concepts.empty());
}

QStringList ConceptPanel::applySelection(const respo::concepts::Selection& selection) {
  const auto notes = model_->applySelection(selection);
  syncEditors();
  view_->viewport()->update();
  return notes;
}

void ConceptPanel::buildEditors() {
  auto addSliders = [this](const QModelIndex& module) {
    const QString name = module.data(ConceptSelectionModel::NameRole).toString();
    const bool usable = model_->flags(module) & Qt::ItemIsEnabled;
    addStrengthSlider(module.siblingAtColumn(ConceptSelectionModel::RamColumn), "ram:" + name, usable);
    addStrengthSlider(module.siblingAtColumn(ConceptSelectionModel::SamColumn), "sam:" + name, usable);
  };
  for (int top = 0; top < model_->rowCount(); ++top) {
    const auto section = model_->index(top, 0);
    for (int row = 0; row < model_->rowCount(section); ++row) {
      const auto child = model_->index(row, 0, section);
      if (model_->kind(child) == "group") {
        addGroupControls(child);
        for (int m = 0; m < model_->rowCount(child); ++m) addSliders(model_->index(m, 0, child));
      } else if (model_->kind(child) == "module") {
        addSliders(child);
      }
    }
  }
}

void ConceptPanel::addStrengthSlider(const QModelIndex& index, const QString& name, bool enabled) {
  auto* box = new QWidget;
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(2, 0, 2, 0);
  auto* slider = new QSlider(Qt::Horizontal, box);
  slider->setObjectName(name);
  slider->setRange(0, ConceptSelectionModel::kMaxPercent);
  slider->setPageStep(10);
  slider->setValue(model_->strength(index));
  slider->setEnabled(enabled);
  slider->setToolTip(index.column() == ConceptSelectionModel::RamColumn
                         ? tr("RAM strength: the responsible-concept module (0 off, 100% as trained)")
                         : tr("SAM strength: the semantic module that keeps the prompt's meaning"));
  auto* label = new QLabel(QString("%1%").arg(slider->value()), box);
  label->setMinimumWidth(label->fontMetrics().horizontalAdvance("150%"));
  row->addWidget(slider, 1);
  row->addWidget(label);
  const QPersistentModelIndex at(index);
  connect(slider, &QSlider::valueChanged, this, [this, label, at](int v) {
    label->setText(QString("%1%").arg(v));
    model_->setStrength(at, v);
  });
  // Releasing the handle (or a key press) is one edit; dragging is not a stream of them.
  connect(slider, &QSlider::sliderReleased, this, &ConceptPanel::conceptsEdited);
  connect(slider, &QSlider::actionTriggered, this, [this, slider](int) {
    if (!slider->isSliderDown()) QMetaObject::invokeMethod(this, &ConceptPanel::conceptsEdited, Qt::QueuedConnection);
  });
  view_->setIndexWidget(index, box);
  editors_.append(box);
}

void ConceptPanel::addGroupControls(const QModelIndex& group) {
  const QString name = group.data(ConceptSelectionModel::NameRole).toString();
  auto* policy = new QComboBox;
  policy->setObjectName("policy:" + name);
  for (const auto& [key, label] : model_->policyChoices(group)) policy->addItem(label, key);
  policy->setCurrentIndex(std::max(0, policy->findData(model_->groupPolicy(group))));
  policy->setToolTip(tr("Which member of the group each image gets"));
  auto* weight = new QDoubleSpinBox;
  weight->setObjectName("weight:" + name);
  weight->setRange(0, 2);
  weight->setSingleStep(0.1);
  weight->setValue(model_->groupWeight(group));
  weight->setPrefix(tr("weight "));
  weight->setToolTip(tr("The group's share when several groups act together (intersectional use)"));
  const QPersistentModelIndex at(group);
  connect(policy, &QComboBox::currentIndexChanged, this, [this, policy, at](int) {
    model_->setGroupPolicy(at, policy->currentData().toString());
    Q_EMIT conceptsEdited();
  });
  connect(weight, &QDoubleSpinBox::valueChanged, this, [this, at](double v) { model_->setGroupWeight(at, v); });
  connect(weight, &QDoubleSpinBox::editingFinished, this, &ConceptPanel::conceptsEdited);
  auto* target = new QLineEdit;
  target->setObjectName("target:" + name);
  target->setPlaceholderText(tr("even"));
  target->setText(model_->data(group.siblingAtColumn(ConceptSelectionModel::TargetColumn), Qt::EditRole).toString());
  const QString targetHelp = tr("Target shares of the random and balanced policies, e.g. \"a woman=30, a man=70\" "
                                "(any unit); empty: every member equally");
  target->setToolTip(targetHelp);
  connect(target, &QLineEdit::editingFinished, this, [this, target, at, targetHelp] {
    const auto index = at.sibling(at.row(), ConceptSelectionModel::TargetColumn);
    const QString before = model_->data(index, Qt::EditRole).toString();
    if (model_->setData(index, target->text(), Qt::EditRole)) {
      target->setStyleSheet({});
      target->setToolTip(targetHelp);
      if (model_->data(index, Qt::EditRole).toString() != before) Q_EMIT conceptsEdited();
    } else {
      target->setStyleSheet("QLineEdit { background: #f8d7da; }");
      target->setToolTip(tr("Not a target: write member=share pairs of this group's members, e.g. \"a woman=30, a man=70\""));
    }
  });
  view_->setIndexWidget(group.siblingAtColumn(ConceptSelectionModel::RamColumn), policy);
  view_->setIndexWidget(group.siblingAtColumn(ConceptSelectionModel::SamColumn), weight);
  view_->setIndexWidget(group.siblingAtColumn(ConceptSelectionModel::TargetColumn), target);
  editors_.append(policy);
  editors_.append(weight);
  editors_.append(target);
}

void ConceptPanel::syncEditors() {
  auto sync = [&](const QModelIndex& index) {
    auto* widget = view_->indexWidget(index);
    if (!widget) return;
    if (auto* slider = widget->findChild<QSlider*>()) {
      const QSignalBlocker block(slider);
      slider->setValue(model_->strength(index));
      if (auto* label = widget->findChild<QLabel*>()) label->setText(QString("%1%").arg(slider->value()));
    } else if (auto* policy = qobject_cast<QComboBox*>(widget)) {
      const QSignalBlocker block(policy);
      policy->setCurrentIndex(std::max(0, policy->findData(model_->groupPolicy(index))));
    } else if (auto* weight = qobject_cast<QDoubleSpinBox*>(widget)) {
      const QSignalBlocker block(weight);
      weight->setValue(model_->groupWeight(index));
    } else if (auto* target = qobject_cast<QLineEdit*>(widget)) {
      const QSignalBlocker block(target);
      target->setText(model_->data(index, Qt::EditRole).toString());
      target->setStyleSheet({});
    }
  };
  std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
    for (int row = 0; row < model_->rowCount(parent); ++row) {
      const auto index = model_->index(row, 0, parent);
      sync(index.siblingAtColumn(ConceptSelectionModel::RamColumn));
      sync(index.siblingAtColumn(ConceptSelectionModel::SamColumn));
      sync(index.siblingAtColumn(ConceptSelectionModel::TargetColumn));
      walk(index);
    }
  };
  walk({});
}

}  // namespace respo::ui
